"""Previews of the annotator pages from the study admin: the study's own content, the
participant's templates, and nothing recorded whatever is clicked or sent."""

import pytest
from django.urls import reverse

from annotators.models import Annotator, ConsentRecord, CovariateResponse, CovariateSchema
from collection.models import Assignment, Enrollment, Label, PracticeAnswer, PracticePair
from collection.preview import PAGES
from tests.factories import researcher_make, study_make

QUESTIONS = [{"key": "lang", "label": "First language", "type": "choice",
              "choices": ["English", "other"]}]  # fmt: skip


def _counts() -> list[int]:
    models = (Enrollment, Assignment, Label, Annotator, ConsentRecord, CovariateResponse,
              PracticeAnswer)  # fmt: skip
    return [m.objects.count() for m in models]


@pytest.mark.django_db
def test_every_page_shows_the_studys_content_and_records_nothing(client, stimulus_set):
    owner = researcher_make("previewer")
    schema = CovariateSchema.objects.create(name="pv", questions=QUESTIONS)
    study = study_make(stimulus_set=stimulus_set, owner=owner, schema=schema)
    study.consent_text = "Our consent words."
    study.save(update_fields=["consent_text"])
    PracticePair.objects.create(
        study=study, prompt="Practice prompt", left="L", right="R", feedback="why"
    )
    client.force_login(owner)
    before = _counts()
    expected = {
        "consent": "Our consent words.",
        "about_you": "First language",
        "practice": "Practice prompt",
        "label": "which response is better?",
        "done": "DONE123",
    }
    for page in PAGES:
        url = reverse("admin:collection_study_preview", args=[study.pk, page])
        html = client.get(url).content.decode()
        assert expected[page] in html, page
        assert 'id="preview-banner"' in html
        assert "data-label-url" not in html  # the page never talks to the API
        sent = client.post(url, {"agree": "on", "choice": "left", "lang": "other"})
        assert sent.status_code == 200, page
    assert _counts() == before
    change = client.get(reverse("admin:collection_study_change", args=[study.pk]))
    assert reverse("admin:collection_study_preview", args=[study.pk, "label"]) in (
        change.content.decode()
    )


@pytest.mark.django_db
def test_pages_a_study_does_not_have_and_other_researchers_get_404(client, stimulus_set):
    owner, stranger = researcher_make("pv-owner"), researcher_make("pv-stranger")
    study = study_make(stimulus_set=stimulus_set, owner=owner)
    client.force_login(owner)
    for page in ("about_you", "practice", "nonsense"):
        url = reverse("admin:collection_study_preview", args=[study.pk, page])
        assert client.get(url).status_code == 404, page
    client.force_login(stranger)
    url = reverse("admin:collection_study_preview", args=[study.pk, "consent"])
    assert client.get(url).status_code == 404
