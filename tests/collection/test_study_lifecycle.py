"""A study's life in the admin without the shell: the catalogue installs from a button on
an empty list, launch refuses a study that cannot run and says why, the design freezes
once launched, and a clone starts a draft of the same design."""

import pytest
from django.urls import reverse

from collection.models import Study
from collection.services.studies import study_clone, study_launch_problems
from interventions.catalogue import CATALOGUE
from interventions.models import Intervention
from tests.factories import stimulus_set_make, study_make, user_make


@pytest.mark.django_db
def test_the_catalogue_installs_from_a_button_while_the_list_is_empty(client):
    client.force_login(user_make("boss", superuser=True))
    page = client.get(reverse("admin:interventions_intervention_changelist")).content.decode()
    assert 'id="install-catalogue"' in page and f"({len(CATALOGUE)} missing)" in page
    client.post(reverse("admin:interventions_intervention_install"))
    assert Intervention.objects.count() == len(CATALOGUE)
    page = client.get(reverse("admin:interventions_intervention_changelist")).content.decode()
    assert "missing)" not in page


@pytest.mark.django_db
def test_launch_refuses_a_study_that_cannot_run_and_says_what_to_fix(client):
    owner = user_make("owner", superuser=True)
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=3),
        status=Study.Status.DRAFT,
        labels_per_annotator=50,
        owner=owner,
    )
    Study.objects.filter(pk=study.pk).update(
        consent_text="", completion_code="", completion_url_template=""
    )
    study.refresh_from_db()
    problems = study_launch_problems(study=study)
    assert any("only" in p and "lower labels per annotator" in p for p in problems)
    assert any("consent text" in p for p in problems)
    assert any("completion code" in p for p in problems)
    client.force_login(owner)
    changelist = reverse("admin:collection_study_changelist")
    answer = client.post(
        changelist, {"action": "launch", "_selected_action": [study.pk]}, follow=True
    )
    assert "was not launched" in answer.content.decode()
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT
    Study.objects.filter(pk=study.pk).update(
        labels_per_annotator=2, consent_text="I agree.", completion_code="DONE1"
    )
    answer = client.post(
        changelist, {"action": "launch", "_selected_action": [study.pk]}, follow=True
    )
    assert "is running" in answer.content.decode()
    study.refresh_from_db()
    assert study.status == Study.Status.RUNNING
    # Launched: the design is read-only on the change page.
    page = client.get(reverse("admin:collection_study_change", args=[study.pk]))
    form_fields = page.context["adminform"].form.fields
    assert "labels_per_annotator" not in form_fields and "estimand" not in form_fields
    assert "title" in form_fields


@pytest.mark.django_db
def test_a_clone_is_a_draft_of_the_same_design_owned_by_whoever_cloned_it():
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=3), estimand="annotator", min_annotators=7
    )
    me = user_make("me")
    clone = study_clone(study=study, owner_id=me.pk)
    again = study_clone(study=study, owner_id=me.pk)
    assert clone.status == Study.Status.DRAFT and clone.slug == f"{study.slug}-copy"
    assert again.slug == f"{study.slug}-copy-2"
    assert (clone.estimand, clone.min_annotators) == ("annotator", 7)
    assert list(clone.stimulus_sets.all()) == list(study.stimulus_sets.all())
    assert list(clone.owners.all()) == [me] and clone.seed != study.seed
