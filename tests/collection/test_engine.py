import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from collection.errors import EnrollmentClosed, LabelRejected
from collection.models import Assignment, Label, Study
from collection.services import assignment_next, enrollment_start, label_submit
from interventions.models import Stimulus
from tests.collection.helpers import submit
from tests.factories import enrollment_make, study_make


@pytest.mark.django_db
def test_next_logs_propensity_of_the_draw(study):
    eligible = Stimulus.objects.filter(check_status="passed").count()
    enrollment = enrollment_make(study)
    assignment = assignment_next(enrollment_id=enrollment.pk).assignment
    assert assignment.p_stimulus == pytest.approx(1 / eligible)
    assert assignment.p_order == 0.5
    assert assignment.propensity == pytest.approx(0.5 / eligible)
    assert assignment.design_name == "complete" and assignment.design_version == "1"
    assert assignment.rng_key == f"{study.seed}:{enrollment.pk}:0"
    assert assignment.stimulus.check_status == "passed"
    # Asking again before labelling returns the same open assignment.
    assert assignment_next(enrollment_id=enrollment.pk).assignment == assignment


@pytest.mark.django_db
def test_every_draw_records_its_seed_key(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, seed=99, labels_per_annotator=4)
    enrollment = enrollment_make(study)
    while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
        submit(enrollment, a)
    keys = list(
        Assignment.objects.filter(enrollment=enrollment)
        .order_by("sequence")
        .values_list("rng_key", flat=True)
    )
    assert keys == [f"99:{enrollment.pk}:{i}" for i in range(4)]


@pytest.mark.django_db
def test_replication_factor_and_no_repeats(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, replication_factor=2, labels_per_annotator=50)
    eligible = Stimulus.objects.filter(check_status="passed").count()
    served = 0
    for _ in range(5):
        enrollment = enrollment_make(study)
        while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            submit(enrollment, a)
            served += 1
    per_stimulus = Counter(Assignment.objects.values_list("stimulus_id", flat=True))
    assert max(per_stimulus.values()) <= 2
    assert served == Label.objects.count() == min(2 * eligible, 5 * eligible)
    pairs = Assignment.objects.values_list("annotator_id", "stimulus_id")
    assert len(set(pairs)) == len(pairs)


@pytest.mark.django_db
def test_expired_assignment_returns_to_pool(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, replication_factor=1, labels_per_annotator=500)
    first = enrollment_make(study)
    eligible = Stimulus.objects.filter(check_status="passed").count()
    for _ in range(eligible - 1):
        submit(first, assignment_next(enrollment_id=first.pk).assignment)
    abandoned = assignment_next(enrollment_id=first.pk).assignment  # served, never labelled
    # Every stimulus is labelled or in flight once; with k=1 nobody else gets work...
    second = enrollment_make(study)
    assert assignment_next(enrollment_id=second.pk).assignment is None
    # ...until the abandoned assignment expires: the next request returns it to the pool.
    Assignment.objects.filter(pk=abandoned.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    again = assignment_next(enrollment_id=second.pk).assignment
    assert again is not None and again.stimulus_id == abandoned.stimulus_id
    abandoned.refresh_from_db()
    assert abandoned.state == Assignment.State.RETURNED and abandoned.returned_at is not None
    with pytest.raises(LabelRejected, match="expired"):
        submit(first, abandoned)


@pytest.mark.django_db
def test_label_replay_returns_original(study):
    enrollment = enrollment_make(study)
    assignment = assignment_next(enrollment_id=enrollment.pk).assignment
    key = uuid.uuid4()
    first = submit(enrollment, assignment, choice="left", submission_id=key)
    replay = submit(enrollment, assignment, choice="right", submission_id=key)
    assert replay.replayed and not first.replayed
    assert replay.label.pk == first.label.pk and replay.label.choice == "left"
    assert Label.objects.count() == 1


@pytest.mark.django_db
def test_outcome_follows_position(study):
    enrollment = enrollment_make(study)
    assignment = assignment_next(enrollment_id=enrollment.pk).assignment
    label = submit(enrollment, assignment, choice="left").label
    assert label.outcome == (1.0 if assignment.treated_on_left else 0.0)
    tie = submit(
        enrollment, assignment_next(enrollment_id=enrollment.pk).assignment, choice="tie"
    ).label
    assert tie.outcome == 0.5


@pytest.mark.django_db
def test_labels_that_cannot_be_stored_are_rejected_and_change_nothing(study):
    mine = enrollment_make(study)
    theirs = enrollment_make(study)
    assignment = assignment_next(enrollment_id=mine.pk).assignment
    with pytest.raises(LabelRejected, match="not assigned to you"):
        submit(theirs, assignment)
    with pytest.raises(LabelRejected, match="choice must be one of"):
        submit(mine, assignment, choice="both")
    with pytest.raises(LabelRejected, match="strength must be 1, 2 or 3"):
        submit(mine, assignment, strength=7)
    with pytest.raises(LabelRejected, match="not assigned to you"):
        label_submit(
            enrollment_id=mine.pk,
            assignment_id=10**9,
            submission_id=uuid.uuid4(),
            choice="left",
            strength=1,
        )
    assert Label.objects.count() == 0
    key = uuid.uuid4()
    submit(mine, assignment, submission_id=key)
    with pytest.raises(LabelRejected, match="already labelled"):
        submit(mine, assignment)
    with pytest.raises(LabelRejected, match="used by someone else"):
        submit(theirs, assignment, submission_id=key)
    expired = assignment_next(enrollment_id=mine.pk).assignment
    Assignment.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    with pytest.raises(LabelRejected, match="expired"):
        submit(mine, expired)
    assert Label.objects.count() == 1


@pytest.mark.django_db
def test_quota_completes_enrollment_and_stops_work(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2)
    enrollment = enrollment_make(study)
    results = [
        submit(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment)
        for _ in range(2)
    ]
    assert [r.completed for r in results] == [False, True]
    enrollment.refresh_from_db()
    assert enrollment.completed_at is not None
    assert assignment_next(enrollment_id=enrollment.pk).assignment is None


@pytest.mark.django_db
def test_label_target_stops_the_study(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, label_target=1)
    first = enrollment_make(study)
    submit(first, assignment_next(enrollment_id=first.pk).assignment)
    assert assignment_next(enrollment_id=enrollment_make(study).pk).assignment is None


@pytest.mark.django_db
def test_only_running_studies_enroll(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, status=Study.Status.DRAFT)
    with pytest.raises(EnrollmentClosed, match="is draft, not running"):
        enrollment_make(study)
    assert not study.enrollments.exists()
    with pytest.raises(EnrollmentClosed):
        enrollment_start(study=study, annotator=None)


@pytest.mark.django_db
def test_pausing_stops_new_work_but_accepts_served_labels(stimulus_set):
    from collection.services import study_pause

    study = study_make(stimulus_set=stimulus_set)
    enrollment = enrollment_make(study)
    served = assignment_next(enrollment_id=enrollment.pk).assignment
    assert study_pause(study_id=study.pk, reason="test") is True
    assert study_pause(study_id=study.pk, reason="again") is False
    study.refresh_from_db()
    assert study.status == Study.Status.PAUSED
    assert (
        assignment_next(enrollment_id=enrollment.pk).assignment == served
    )  # still open: may be labelled
    assert submit(enrollment, served).label.pk
    assert assignment_next(enrollment_id=enrollment.pk).assignment is None
    with pytest.raises(EnrollmentClosed):
        enrollment_make(study)
