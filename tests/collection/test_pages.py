"""The annotator pages, walked with Django's test client."""

import re

import pytest
from django.urls import reverse

from annotators.models import Annotator, ConsentRecord, CovariateResponse, CovariateSchema
from annotators.services import external_id_hash
from collection.models import Enrollment, Label, Study
from interventions.models import Response
from tests.factories import study_make

QUESTIONS = [
    {"key": "age", "label": "Age group", "type": "choice", "choices": ["18-29", "30+"]},
    {"key": "years", "label": "Years online", "type": "number", "min": 0, "max": 80},
]


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def _label_once(client, slug, choice="right"):
    page = client.get(reverse("collection:label", args=[slug]))
    assert page.status_code == 200
    html = page.content.decode()
    return client.post(
        reverse("collection:label", args=[slug]),
        {
            "assignment_id": _field(html, "assignment_id"),
            "submission_id": _field(html, "submission_id"),
            "choice": choice,
            "strength": "3",
            "rationale": "clearer",
            "time_on_task_ms": "1234",
        },
    )


@pytest.mark.django_db
def test_prolific_annotator_walks_from_entry_to_completion_code(client, stimulus_set):
    schema = CovariateSchema.objects.create(name="q", questions=QUESTIONS)
    study = study_make(stimulus_set=stimulus_set, schema=schema, labels_per_annotator=3)
    slug = study.slug
    entry = reverse("collection:entry", args=[slug])
    params = "?PROLIFIC_PID=pid-123&STUDY_ID=st&SESSION_ID=se"
    assert client.get(entry + params).status_code == 200
    assert not Annotator.objects.exists()  # a GET creates nothing
    response = client.post(entry + params)
    assert response.url == reverse("collection:consent", args=[slug])
    assert client.post(response.url, {}).status_code == 200  # unticked: stays
    response = client.post(response.url, {"agree": "on"})
    assert response.url == reverse("collection:about_you", args=[slug])
    bad = client.post(response.url, {"age": "12", "years": "-3"})
    assert bad.status_code == 200 and not CovariateResponse.objects.exists()
    response = client.post(response.url, {"age": "30+", "years": "12"})
    assert response.url == reverse("collection:label", args=[slug])
    for _ in range(3):
        response = _label_once(client, slug)
    assert response.url == reverse("collection:done", args=[slug])
    done = client.get(response.url).content.decode()
    assert "DONE123" in done and "app.prolific.com" in done

    annotator = Annotator.objects.get()
    assert annotator.external_id_hash == external_id_hash("pid-123")
    assert "pid-123" not in annotator.code
    enrollment = Enrollment.objects.get()
    assert (enrollment.prolific_study_id, enrollment.prolific_session_id) == ("st", "se")
    assert ConsentRecord.objects.get().text == study.consent_text
    assert CovariateResponse.objects.get().answers == {"age": "30+", "years": 12.0}
    labels = Label.objects.order_by("pk")
    assert [(lb.choice, lb.strength, lb.rationale, lb.time_on_task_ms) for lb in labels] == [
        ("right", 3, "clearer", 1234)
    ] * 3


@pytest.mark.django_db
def test_returning_prolific_annotator_keeps_pseudonym(client, study):
    entry = reverse("collection:entry", args=[study.slug])
    client.post(entry + "?PROLIFIC_PID=abc")
    client.logout()
    client.post(entry + "?PROLIFIC_PID=abc")
    assert Annotator.objects.count() == 1 and Enrollment.objects.count() == 1


@pytest.mark.django_db
def test_pages_need_an_enrollment_and_a_running_study(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, status=Study.Status.PAUSED)
    for name in ("consent", "label", "done"):
        response = client.get(reverse(f"collection:{name}", args=[study.slug]))
        assert response.url == reverse("collection:entry", args=[study.slug])
    closed = client.post(reverse("collection:entry", args=[study.slug]))
    assert closed.status_code == 403 and b"not open" in closed.content
    assert not Annotator.objects.exists()


@pytest.mark.django_db
def test_model_html_is_escaped_and_csp_forbids_inline_script(client, study):
    Response.objects.filter(prompt__source__isnull=False).update(
        text="<script>alert('x')</script> <img src=x onerror=alert(1)> **bold**"
    )
    client.post(reverse("collection:entry", args=[study.slug]))
    client.post(reverse("collection:consent", args=[study.slug]), {"agree": "on"})
    page = client.get(reverse("collection:label", args=[study.slug]))
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img" not in html and "<strong>bold</strong>" in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


@pytest.mark.django_db
def test_forged_label_post_is_refused(client, study):
    client.post(reverse("collection:entry", args=[study.slug]))
    client.post(reverse("collection:consent", args=[study.slug]), {"agree": "on"})
    client.get(reverse("collection:label", args=[study.slug]))
    response = client.post(
        reverse("collection:label", args=[study.slug]),
        {
            "assignment_id": "999999",
            "submission_id": "8f0c3f8e-5d4c-4a53-9a68-1f0b7c3c9a11",
            "choice": "left",
            "strength": "2",
        },
        follow=True,
    )
    assert b"not assigned to you" in response.content
    assert not Label.objects.exists()
