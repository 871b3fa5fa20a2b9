"""Reviewing pairs through the researcher API: the admin's verdicts (reviewer, time,
reason), all or nothing, only on sets you own; the list filters by verdict."""

import pytest

from collection.models import StudyAccess
from collection.services.api_tokens import api_token_create
from interventions.models import Stimulus
from tests.collection.test_researcher_api import _api
from tests.factories import researcher_make, study_make


@pytest.fixture
def reviewing(stimulus_set):
    owner, reader, stranger = (researcher_make(n) for n in ("rv-owner", "rv-reader", "rv-x"))
    stimulus_set.owner = owner
    stimulus_set.save()
    study = study_make(stimulus_set=stimulus_set, owner=owner)
    StudyAccess.objects.create(study=study, user=reader, role="read", granted_by=owner)
    ids = list(
        Stimulus.objects.filter(
            stimulus_set=stimulus_set, check_status=Stimulus.CheckStatus.PASSED
        ).values_list("pk", flat=True)
    )
    tokens = {n: api_token_create(user=u, name="t")[1] for n, u in
              (("owner", owner), ("reader", reader), ("stranger", stranger))}  # fmt: skip
    return stimulus_set, ids, tokens, owner


def _review(token, set_id, body):
    return _api(token).post(
        f"/api/v1/stimulus-sets/{set_id}/reviews/", body, content_type="application/json"
    )


@pytest.mark.django_db
def test_the_owner_approves_and_rejects_with_a_reason_and_the_list_filters(reviewing):
    stimulus_set, ids, tokens, owner = reviewing
    answer = _review(tokens["owner"], stimulus_set.pk, {"ids": ids[:2], "decision": "approve"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["reviewed"] == 2
    assert {s["review_status"] for s in answer.json()["stimuli"]} == {"approved"}
    reject = {"ids": [ids[2]], "decision": "reject", "reason": "changes the meaning"}
    answer = _review(tokens["owner"], stimulus_set.pk, reject)
    assert answer.status_code == 200
    rejected = Stimulus.objects.get(pk=ids[2])
    assert (rejected.review_status, rejected.review_reason) == ("rejected", "changes the meaning")
    assert rejected.reviewed_by == owner and rejected.reviewed_at is not None
    listed = _api(tokens["owner"]).get(
        f"/api/v1/stimulus-sets/{stimulus_set.pk}/stimuli/", {"review_status": "approved"}
    )
    assert sorted(s["id"] for s in listed.json()["results"]) == sorted(ids[:2])
    pending = _api(tokens["owner"]).get(
        f"/api/v1/stimulus-sets/{stimulus_set.pk}/stimuli/", {"review_status": "pending"}
    )
    assert len(pending.json()["results"]) == len(ids) - 3
    wrong = _api(tokens["owner"]).get(
        f"/api/v1/stimulus-sets/{stimulus_set.pk}/stimuli/", {"review_status": "maybe"}
    )
    assert wrong.status_code == 400 and "review_status" in wrong.json()


@pytest.mark.django_db
def test_bad_reviews_say_what_to_fix_and_change_nothing(reviewing):
    stimulus_set, ids, tokens, _ = reviewing
    cases = [
        ({"ids": ids[:2], "decision": "reject"}, "say why"),
        ({"ids": ids[:1] + [10**9], "decision": "approve"}, "not pairs of this set"),
        ({"ids": [], "decision": "approve"}, "ids"),
        ({"ids": ids[:1], "decision": "maybe"}, "decision"),
    ]
    for body, message in cases:
        answer = _review(tokens["owner"], stimulus_set.pk, body)
        assert answer.status_code == 400 and message in answer.content.decode(), answer.content
    failed = Stimulus.objects.filter(stimulus_set=stimulus_set).exclude(
        check_status=Stimulus.CheckStatus.PASSED
    )
    if failed.exists():
        answer = _review(tokens["owner"], stimulus_set.pk,
                         {"ids": ids[:1] + [failed.first().pk], "decision": "approve"})  # fmt: skip
        assert answer.status_code == 400 and "manipulation check" in answer.content.decode()
    assert not Stimulus.objects.exclude(review_status="pending").exists()


@pytest.mark.django_db
def test_a_reader_may_not_review_and_a_stranger_sees_no_set(reviewing):
    stimulus_set, ids, tokens, _ = reviewing
    body = {"ids": ids[:1], "decision": "approve"}
    assert _review(tokens["reader"], stimulus_set.pk, body).status_code == 403
    assert _review(tokens["stranger"], stimulus_set.pk, body).status_code == 404
    assert _review(None, stimulus_set.pk, body).status_code == 401
    assert not Stimulus.objects.exclude(review_status="pending").exists()
