"""The annotator API through Django's test client, with CSRF checks on."""

import json
import re
import uuid

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from annotators.models import CovariateSchema
from annotators.services import covariates_record
from collection.enrollment_cookie import COOKIE
from collection.models import Assignment, Enrollment, Label
from collection.rendering import markdown_render
from collection.services.labels import TIE_STRENGTH
from tests.factories import study_make


def _enrolled_client(study) -> Client:
    """A browser that went through the entry and consent pages, with CSRF enforced."""
    client = Client(enforce_csrf_checks=True)
    entry = reverse("collection:entry", args=[study.slug])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(entry).text)
    response = client.post(entry, {"csrfmiddlewaretoken": token.group(1)})
    consent = client.get(response.url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', consent.text).group(1)
    client.post(response.url, {"agree": "on", "csrfmiddlewaretoken": token})
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def _next(client, study):
    return client.post(reverse("collection_api:next", args=[study.slug]))


def _label(client, study, body, **extra):
    return client.post(
        reverse("collection_api:label", args=[study.slug]),
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        **extra,
    )


def _body(assignment_id, **fields):
    return {
        "assignment_id": assignment_id,
        "submission_id": str(uuid.uuid4()),
        "choice": "left",
        "strength": 2,
        **fields,
    }


@pytest.mark.django_db
def test_next_then_label_until_the_completion_code(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2)
    client = _enrolled_client(study)
    for i in range(2):
        response = _next(client, study)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "pair" and body["progress"] == {"done": i, "total": 2}
        pair = body["pair"]
        assignment = Assignment.objects.get(pk=pair["assignment_id"])
        stimulus = assignment.stimulus
        # Sides are already ordered; no field names the treated side, cell or stimulus.
        assert set(body) == {"status", "pair", "completion_code", "progress"}
        assert set(pair) == {
            "assignment_id",
            "prompt_html",
            "left_html",
            "right_html",
            "expires_at",
        }
        expected_left = stimulus.treated if assignment.treated_on_left else stimulus.control
        expected_right = stimulus.control if assignment.treated_on_left else stimulus.treated
        assert pair["left_html"] == markdown_render(expected_left.text)
        assert pair["right_html"] == markdown_render(expected_right.text)
        # Asking again before labelling returns the same pair.
        assert _next(client, study).json()["pair"]["assignment_id"] == assignment.pk
        labelled = _label(client, study, _body(assignment.pk))
        assert labelled.status_code == 201
    assert labelled.json()["completed"] is True
    assert labelled.json()["completion_code"] == study.completion_code
    done = _next(client, study).json()
    assert done["status"] == "done" and done["completion_code"] == study.completion_code
    assert done["pair"] is None and Label.objects.count() == 2


@pytest.mark.django_db
def test_the_label_response_carries_the_next_pair_until_the_quota_is_met(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2)
    client = _enrolled_client(study)
    first = _next(client, study).json()["pair"]["assignment_id"]
    labelled = _label(client, study, _body(first)).json()
    carried = labelled["next"]
    assert carried["status"] == "pair" and carried["progress"] == {"done": 1, "total": 2}
    assert carried["pair"]["assignment_id"] != first
    # The pair it carries is the annotator's open one: next/ answers the same.
    assert _next(client, study).json() == carried
    last = _label(client, study, _body(carried["pair"]["assignment_id"])).json()
    assert last["completed"] is True and "next" not in last


@pytest.mark.django_db
def test_label_replay_returns_the_original_and_writes_nothing(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=5)
    client = _enrolled_client(study)
    assignment_id = _next(client, study).json()["pair"]["assignment_id"]
    body = _body(assignment_id, choice="right")
    first = _label(client, study, body)
    replay = _label(client, study, {**body, "choice": "left"})
    assert first.status_code == 201 and replay.status_code == 200
    assert replay.json()["replayed"] is True
    assert replay.json()["label_id"] == first.json()["label_id"]
    assert Label.objects.get().choice == "right"


@pytest.mark.django_db
def test_bad_bodies_get_clear_errors_and_change_nothing(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=5)
    client = _enrolled_client(study)
    other = _enrolled_client(study)
    mine = _next(client, study).json()["pair"]["assignment_id"]
    theirs = _next(other, study).json()["pair"]["assignment_id"]
    cases = [
        ("{not json", 400, "JSON"),
        ("[1, 2]", 400, "JSON object"),
        ("[" * 6000 + "]" * 6000, 400, "nested deeper than 16 levels"),
        (_body(mine, rationale={"a": json.loads("[" * 20 + "]" * 20)}), 400, "nested deeper"),
        (_body(mine, choice="both"), 400, "choice"),
        (_body(mine, strength=9), 400, "strength"),
        (_body(mine, strength=None), 400, "how much better"),
        (
            {k: v for k, v in _body(mine, choice="right").items() if k != "strength"},
            400,
            "1, 2 or 3",
        ),
        (_body(mine, submission_id="nope"), 400, "submission_id"),
        (_body(mine, treated_on_left=True), 400, "unknown fields: treated_on_left"),
        (_body(mine, rationale="x" * 5001), 400, "rationale"),
        (_body(mine, rationale="x" * 30_000), 413, "at most"),
        (_body(theirs), 409, "not assigned to you"),
        (_body(10**12), 409, "not assigned to you"),
    ]
    for body, status, message in cases:
        response = _label(client, study, body)
        assert response.status_code == status, (body, response.content)
        assert message in response.content.decode()
    assert not Label.objects.exists()
    assert _label(client, study, _body(mine)).status_code == 201
    again = _label(client, study, _body(mine))
    assert again.status_code == 409 and "already labelled" in again.json()["detail"]
    assert Label.objects.count() == 1


@pytest.mark.django_db
def test_a_tie_needs_no_strength_and_ignores_one_sent(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=3)
    client = _enrolled_client(study)
    body = _body(_next(client, study).json()["pair"]["assignment_id"], choice="tie")
    del body["strength"]
    assert _label(client, study, body).status_code == 201
    body = _body(_next(client, study).json()["pair"]["assignment_id"], choice="tie", strength=3)
    assert _label(client, study, body).status_code == 201
    assert [(lb.choice, lb.strength) for lb in Label.objects.order_by("pk")] == [
        ("tie", TIE_STRENGTH),
        ("tie", TIE_STRENGTH),
    ]


@pytest.mark.django_db
def test_api_needs_the_session_and_the_csrf_token(stimulus_set):
    study = study_make(stimulus_set=stimulus_set)
    stranger = Client(enforce_csrf_checks=True)
    assert _next(stranger, study).status_code in (401, 403)
    client = _enrolled_client(study)
    del client.defaults["HTTP_X_CSRFTOKEN"]
    response = _next(client, study)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Assignment.objects.exists()
    # A session enrolled in one study does not open another study's API.
    other = study_make(stimulus_set=stimulus_set)
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    assert _next(client, other).status_code in (401, 403)
    assert _next(client, study).status_code == 200


@pytest.mark.django_db
def test_openapi_schema_describes_both_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/studies/{slug}/next/" in text and "/api/studies/{slug}/labels/" in text
    assert "submission_id" in text
    schema = json.loads(text)
    label = schema["paths"]["/api/studies/{slug}/labels/"]["post"]["responses"]
    assert {"400", "401", "403", "409", "413", "429"} <= set(label)
    assert schema["components"]["schemas"]["LabelIn"]["additionalProperties"] is False


def _entered_client(study) -> Client:
    """A browser that went through the entry page only (no consent yet)."""
    client = Client(enforce_csrf_checks=True)
    entry = reverse("collection:entry", args=[study.slug])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(entry).text)
    client.post(entry, {"csrfmiddlewaretoken": token.group(1)})
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


@pytest.mark.django_db
def test_pairs_wait_for_consent_and_the_questionnaire(stimulus_set):
    schema = CovariateSchema.objects.create(
        name="age", questions=[{"key": "age", "label": "Age", "type": "choice", "choices": ["a"]}]
    )
    study = study_make(stimulus_set=stimulus_set, schema=schema)
    client = _entered_client(study)
    before_consent = _next(client, study)
    assert before_consent.status_code == 403 and "consent" in before_consent.json()["detail"]
    consent = reverse("collection:consent", args=[study.slug])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(consent).text)
    client.post(consent, {"agree": "on", "csrfmiddlewaretoken": token.group(1)})
    # Covariates are recorded before the first exposure, so the API does not skip them.
    before_answers = _next(client, study)
    assert before_answers.status_code == 403
    assert "questionnaire" in before_answers.json()["detail"]
    assert not Assignment.objects.exists()
    enrollment = Enrollment.objects.get(study=study)
    covariates_record(annotator=enrollment.annotator, schema=schema, answers={"age": "a"})
    assert _next(client, study).json()["status"] == "pair"


@pytest.mark.django_db
def test_a_forged_or_foreign_enrollment_cookie_opens_nothing(stimulus_set):
    study = study_make(stimulus_set=stimulus_set)
    client = _enrolled_client(study)
    genuine = client.cookies[COOKIE].value
    for forged in (genuine[:-2] + "xx", "1", signing.dumps("1")):
        client.cookies[COOKIE] = forged
        response = _next(client, study)
        assert response.status_code == 401 and "entry link" in response.json()["detail"]
    assert not Assignment.objects.exists()
    client.cookies[COOKIE] = genuine
    assert _next(client, study).status_code == 200


@pytest.mark.django_db
def test_a_submission_id_reused_for_another_pair_is_refused(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=5)
    client = _enrolled_client(study)
    first = _next(client, study).json()["pair"]["assignment_id"]
    body = _body(first)
    assert _label(client, study, body).status_code == 201
    second = _next(client, study).json()["pair"]["assignment_id"]
    reused = _label(client, study, {**body, "assignment_id": second})
    assert reused.status_code == 409 and "another pair" in reused.json()["detail"]
    assert Label.objects.count() == 1
    assert Assignment.objects.get(pk=second).state == Assignment.State.OPEN


@pytest.mark.django_db
def test_an_attention_check_looks_and_answers_like_any_pair(stimulus_set):
    """No feedback: the pair and the label's answer carry nothing that tells a check from
    a pair, or a passed check from a failed one."""
    from tests.collection.helpers import attention_checks_make

    attention_checks_make(stimulus_set, 2)
    study = study_make(stimulus_set=stimulus_set, attention_check_rate=0.5, labels_per_annotator=8)
    client = _enrolled_client(study)
    answers: dict[bool, set] = {True: set(), False: set()}
    pairs: dict[bool, set] = {True: set(), False: set()}
    for _ in range(7):  # the 8th label completes the quota, and its answer has no next
        pair = _next(client, study).json()["pair"]
        is_check = Assignment.objects.get(pk=pair["assignment_id"]).is_attention_check
        body = _label(client, study, _body(pair["assignment_id"], choice="right")).json()
        pairs[is_check].add(tuple(sorted(pair)))
        answers[is_check].add(tuple(sorted(body)))
    assert pairs[True] and pairs[False], "both kinds were served"
    assert pairs[True] == pairs[False] and answers[True] == answers[False]
    assert len(answers[True]) == 1
