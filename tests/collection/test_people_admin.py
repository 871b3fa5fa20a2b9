"""A researcher sees annotators, their answers and their consents only through studies
they can read; questionnaires they wrote or that such studies use."""

import pytest
from django.urls import reverse

from annotators.models import CovariateSchema
from annotators.services import consent_record, covariates_record
from tests.factories import enrollment_make, researcher_make, study_make

QUESTIONS = [{"key": "age", "label": "Age band", "type": "choice", "choices": ["a", "b"]}]


@pytest.fixture
def two_studies(stimulus_set):
    alice, bob = researcher_make("alice"), researcher_make("bob")
    found = {}
    for owner in (alice, bob):
        schema = CovariateSchema.objects.create(
            name=f"{owner.username}'s questions", questions=QUESTIONS, owner=owner
        )
        study = study_make(
            stimulus_set=stimulus_set, owner=owner, schema=schema, title=f"{owner.username}'s study"
        )
        enrollment = enrollment_make(study)
        covariates_record(
            annotator=enrollment.annotator,
            schema=schema,
            answers={"age": "a" if owner is alice else "b"},
        )
        consent_record(annotator=enrollment.annotator, scope=study.slug, text="ok")
        found[owner.username] = (owner, study, enrollment.annotator, schema)
    return found


PAGES = {
    "annotators_annotator": lambda s, a, sc: a.code,
    "annotators_covariateresponse": lambda s, a, sc: a.code,
    "annotators_consentrecord": lambda s, a, sc: s.slug,
    "annotators_covariateschema": lambda s, a, sc: sc.name.replace("'", "&#x27;"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(PAGES))
def test_lists_show_only_records_of_readable_studies(client, two_studies, page):
    alice, *mine = two_studies["alice"]
    _, *theirs = two_studies["bob"]
    client.force_login(alice)
    html = client.get(reverse(f"admin:{page}_changelist")).content.decode()
    assert PAGES[page](*mine) in html
    assert PAGES[page](*theirs) not in html


@pytest.mark.django_db
def test_foreign_records_cannot_be_opened_and_the_hash_is_hidden(client, two_studies):
    alice, _, annotator, schema = two_studies["alice"]
    _, _, their_annotator, their_schema = two_studies["bob"]
    client.force_login(alice)
    mine = client.get(reverse("admin:annotators_annotator_change", args=[annotator.pk]))
    assert mine.status_code == 200 and "external_id_hash" not in mine.content.decode()
    for name, obj in (("annotator", their_annotator), ("covariateschema", their_schema)):
        page = client.get(reverse(f"admin:annotators_{name}_change", args=[obj.pk]))
        assert page.status_code == 302, name  # the admin cannot find it
    study_form = client.get(reverse("admin:collection_study_add")).content.decode()
    assert schema.name.replace("'", "&#x27;") in study_form
    assert their_schema.name.replace("'", "&#x27;") not in study_form
