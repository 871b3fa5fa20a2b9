"""Reviewing generated pairs: the diff marks every edit and escapes the text, verdicts are
recorded with reviewer, time and reason, and a study limited to approved pairs serves
only those."""

import pytest
from django.urls import reverse
from django.utils import timezone

from collection.services import assignment_next
from interventions.models import Stimulus
from interventions.review import ReviewRefused, edit_diff, stimuli_review
from tests.factories import enrollment_make, stimulus_set_make, study_make, user_make


def test_the_diff_marks_removed_and_added_words_and_escapes_the_text():
    diff = edit_diff(
        "The tool <b>might</b> help. It is fast.",
        "The tool <b>might</b> help a lot. It is fast.\n\nIn short, it helps.",
    )
    assert "&lt;b&gt;might&lt;/b&gt;" in diff.control_html and "<b>" not in diff.treated_html
    assert "<ins>[+" in diff.treated_html and "In short, it helps." in diff.treated_html
    assert diff.added >= 4 and diff.removed >= 1
    same = edit_diff("Nothing changes here.", "Nothing changes here.")
    assert (same.added, same.removed) == (0, 0) and "<ins>" not in same.treated_html


@pytest.mark.django_db
def test_verdicts_are_recorded_and_a_rejection_needs_a_reason():
    reviewer = user_make("reviewer")
    stimulus_set = stimulus_set_make(prompts=4)
    ids = list(stimulus_set.stimuli.filter(check_status="passed").values_list("pk", flat=True))
    with pytest.raises(ReviewRefused, match="say why"):
        stimuli_review(stimulus_ids=ids, approve=False, reason="  ", reviewer_id=reviewer.pk)
    assert not Stimulus.objects.exclude(review_status="pending").exists()
    before = timezone.now()
    stimuli_review(
        stimulus_ids=ids[:1], approve=False, reason="adds a claim", reviewer_id=reviewer.pk
    )
    rejected = Stimulus.objects.get(pk=ids[0])
    assert (rejected.review_status, rejected.review_reason) == ("rejected", "adds a claim")
    assert rejected.reviewed_by == reviewer and rejected.reviewed_at >= before
    failed = stimulus_set.stimuli.filter(check_status="rejected").first()
    if failed is not None:
        with pytest.raises(ReviewRefused, match="failed their manipulation check"):
            stimuli_review(
                stimulus_ids=[ids[1], failed.pk], approve=True, reason="", reviewer_id=reviewer.pk
            )
        assert Stimulus.objects.get(pk=ids[1]).review_status == "pending"


@pytest.mark.django_db
def test_a_study_limited_to_approved_pairs_serves_only_those(client):
    stimulus_set = stimulus_set_make(prompts=6)
    passed = list(stimulus_set.stimuli.filter(check_status="passed").order_by("pk"))
    approved = {s.pk for s in passed[:2]}
    reviewer = user_make("boss", superuser=True)
    stimuli_review(stimulus_ids=list(approved), approve=True, reason="", reviewer_id=reviewer.pk)
    study = study_make(stimulus_set=stimulus_set, replication_factor=1, require_approved=True)
    served = set()
    for _ in range(4):  # more annotators than approved pairs: the rest get none
        assignment = assignment_next(enrollment_id=enrollment_make(study).pk).assignment
        if assignment is not None:
            served.add(assignment.stimulus_id)
    assert served == approved
    # Approving another pair after launch: the admin action adds it to the pool.
    stimuli_review(stimulus_ids=[passed[2].pk], approve=True, reason="", reviewer_id=reviewer.pk)
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:collection_study_changelist"),
        {"action": "pool_extend", "_selected_action": [study.pk]},
        follow=True,
    )
    assert "1 pair(s) added to the pool." in response.content.decode()
