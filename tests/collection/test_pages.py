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
    clean = client.get(entry + params)  # the id is hashed and left out of every later URL
    assert clean.status_code == 302 and clean.url == entry
    assert client.get(entry).status_code == 200
    assert not Annotator.objects.exists()  # a GET creates nothing
    response = client.post(entry)
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
    assert annotator.external_id_hash == external_id_hash("pid-123", scope=f"study:{study.pk}")
    assert "pid-123" not in annotator.code
    enrollment = Enrollment.objects.get()
    assert (enrollment.prolific_study_id, enrollment.prolific_session_id) == ("st", "se")
    assert ConsentRecord.objects.get().text == study.consent_text
    assert CovariateResponse.objects.get().answers == {"age": "30+", "years": 12.0}
    labels = Label.objects.order_by("pk")
    assert [(lb.choice, lb.strength, lb.rationale, lb.time_on_task_ms) for lb in labels] == [
        ("right", 3, "clearer", 1234)
    ] * 3


def _enter(client, study, query: str = ""):
    """Arrive by a link (with its query, if any), then press Start."""
    entry = reverse("collection:entry", args=[study.slug])
    client.get(entry + query)
    return client.post(entry)


@pytest.mark.django_db
def test_returning_prolific_annotator_keeps_pseudonym(client, study):
    _enter(client, study, "?PROLIFIC_PID=abc&STUDY_ID=st&SESSION_ID=se")
    client.logout()
    back = _enter(client, study, "?PROLIFIC_PID=abc&STUDY_ID=st&SESSION_ID=se")
    assert back.status_code == 302
    assert Annotator.objects.count() == 1 and Enrollment.objects.count() == 1


@pytest.mark.django_db
def test_a_known_pid_with_another_session_takes_over_nothing(client, study):
    owner = _enter(client, study, "?PROLIFIC_PID=victim&STUDY_ID=st&SESSION_ID=real")
    client.post(owner.url, {"agree": "on"})
    enrollment = Enrollment.objects.get()
    for query in (
        "?PROLIFIC_PID=victim&STUDY_ID=st&SESSION_ID=guess",
        "?PROLIFIC_PID=victim&STUDY_ID=other&SESSION_ID=real",
    ):
        client.logout()
        refused = _enter(client, study, query)
        assert refused.status_code == 403 and b"another session" in refused.content, query
        follow = client.get(reverse("collection:label", args=[study.slug]))
        assert follow.status_code == 302 and follow.url.endswith(f"/s/{study.slug}/"), query
        assert client.get(reverse("collection:done", args=[study.slug])).status_code == 302
    client.logout()
    no_session = client.get(
        reverse("collection:entry", args=[study.slug]) + "?PROLIFIC_PID=victim&STUDY_ID=st"
    )
    assert no_session.status_code == 403 and b"no SESSION_ID" in no_session.content
    assert Enrollment.objects.count() == 1 and Annotator.objects.count() == 1
    enrollment.refresh_from_db()
    assert enrollment.prolific_session_id == "real"


@pytest.mark.django_db
def test_the_same_pid_has_a_different_pseudonym_in_each_study(client, stimulus_set):
    first, second = (study_make(stimulus_set=stimulus_set) for _ in range(2))
    for study in (first, second):
        _enter(client, study, "?PROLIFIC_PID=same-person&STUDY_ID=st&SESSION_ID=se")
    codes = {e.study_id: e.annotator.code for e in Enrollment.objects.select_related("annotator")}
    hashes = set(Annotator.objects.values_list("external_id_hash", flat=True))
    assert len(codes) == 2 and len(set(codes.values())) == 2 and len(hashes) == 2


@pytest.mark.django_db
def test_the_raw_pid_is_stored_nowhere(client, study):
    from django.contrib.sessions.models import Session
    from django.db import connection

    _enter(client, study, "?PROLIFIC_PID=needle-5f3a&STUDY_ID=st&SESSION_ID=se")
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            assert "needle-5f3a" not in repr(cursor.fetchall()), table
    assert Session.objects.exists()  # the session tables were among those read


@pytest.mark.django_db
def test_unknown_and_not_running_studies_answer_alike(client, stimulus_set):
    answers = []
    for status in (Study.Status.DRAFT, Study.Status.PAUSED, Study.Status.CLOSED):
        study = study_make(stimulus_set=stimulus_set, status=status, title=f"Secret {status}")
        page = client.get(reverse("collection:entry", args=[study.slug]))
        assert "Secret" not in page.content.decode()
        answers.append((page.status_code, page.content))
    unknown = client.get(reverse("collection:entry", args=["no-such-study"]))
    assert {a for a in answers} == {(unknown.status_code, unknown.content)}
    assert unknown.status_code == 404


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


def _strength_inputs(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="strength"[^>]*>', html)


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [Study.Strength.IGNORE, Study.Strength.GRADED])
def test_the_strength_question_starts_empty_only_where_it_grades_the_outcome(
    client, stimulus_set, mode
):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2, strength=mode)
    response = _enter(client, study)
    client.post(response.url, {"agree": "on"})
    html = client.get(reverse("collection:label", args=[study.slug])).content.decode()
    inputs = _strength_inputs(html)
    assert len(inputs) == 3
    checked = [re.search(r'value="(\d)"', tag).group(1) for tag in inputs if "checked" in tag]
    required = [tag for tag in inputs if "required" in tag]
    if mode == Study.Strength.GRADED:
        assert checked == [] and len(required) == 3
    else:
        assert checked == ["2"] and required == []
    # Either way, a preference posted without a strength is refused and stores nothing.
    refused = client.post(
        reverse("collection:label", args=[study.slug]),
        {
            "assignment_id": _field(html, "assignment_id"),
            "submission_id": _field(html, "submission_id"),
            "choice": "left",
        },
    )
    assert refused.url == reverse("collection:label", args=[study.slug])
    assert not Label.objects.exists()
