"""Researchers are isolated in the interventions library: B neither lists, opens nor
changes A's prompts, responses, stimulus sets or stimuli, and offers none of them in a
form; the built-in catalogue is shared read-only."""

import pytest
from django.urls import reverse

from interventions.models import Intervention, Prompt, Response, Stimulus, StimulusSet
from interventions.services import prompts_import
from tests.factories import demo_lines, researcher_make, stimulus_set_make


@pytest.fixture
def alices_library():
    alice = researcher_make("alice")
    stimulus_set = stimulus_set_make(prompts=3, source="alice-src")
    Prompt.objects.filter(source="alice-src").update(owner=alice)
    StimulusSet.objects.filter(pk=stimulus_set.pk).update(owner=alice)
    return alice, stimulus_set


@pytest.mark.django_db
def test_another_researcher_sees_and_changes_nothing_of_alices_library(client, alices_library):
    alice, stimulus_set = alices_library
    prompt = Prompt.objects.filter(owner=alice).first()
    objects = {
        "prompt": prompt,
        "response": Response.objects.filter(prompt=prompt).first(),
        "stimulusset": stimulus_set,
        "stimulus": Stimulus.objects.filter(stimulus_set=stimulus_set).first(),
    }
    bob = researcher_make("bob")
    client.force_login(bob)
    review = client.get(
        reverse("admin:interventions_stimulus_review", args=[objects["stimulus"].pk])
    )
    assert review.status_code == 302
    for model, obj in objects.items():
        listing = client.get(reverse(f"admin:interventions_{model}_changelist"))
        assert listing.status_code == 200
        assert f"/{obj.pk}/change/" not in listing.content.decode(), model
        page = client.get(reverse(f"admin:interventions_{model}_change", args=[obj.pk]))
        assert page.status_code == 302, model  # "doesn't exist", back to the index
        edit = client.post(reverse(f"admin:interventions_{model}_change", args=[obj.pk]), {})
        assert edit.status_code in (302, 403), model  # refused either way
    text = Prompt.objects.get(pk=prompt.pk).text
    assert text == prompt.text
    # The set form offers only Bob's own sources.
    prompts_import(lines=demo_lines(2), source="bob-src", owner_id=bob.pk)
    form = client.get(reverse("admin:interventions_stimulusset_add")).content.decode()
    assert 'value="bob-src"' in form and "alice-src" not in form
    # Alice still sees her own, and reviews her own pairs.
    client.force_login(alice)
    mine = client.get(reverse("admin:interventions_prompt_change", args=[prompt.pk]))
    assert mine.status_code == 200 and mine.context["original"] == prompt
    stimulus = objects["stimulus"]
    review = client.get(reverse("admin:interventions_stimulus_review", args=[stimulus.pk]))
    assert review.status_code == 200 and review.context["stimulus"] == stimulus


@pytest.mark.django_db
def test_the_catalogue_is_shared_read_only(client, alices_library):
    catalogue = Intervention.objects.filter(owner__isnull=True).first()
    assert catalogue is not None
    client.force_login(researcher_make("bob"))
    listing = client.get(reverse("admin:interventions_intervention_changelist")).content.decode()
    assert f"/{catalogue.pk}/change/" in listing
    page = client.get(reverse("admin:interventions_intervention_change", args=[catalogue.pk]))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    before = Intervention.objects.get(pk=catalogue.pk).check_threshold
    client.post(
        reverse("admin:interventions_intervention_change", args=[catalogue.pk]),
        {"name": catalogue.name, "check_threshold": 0.0},
    )
    assert Intervention.objects.get(pk=catalogue.pk).check_threshold == before
