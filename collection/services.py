"""Writes for a running study: enrollment, the assignment engine, label submission."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from annotators.models import Annotator
from collection.designs import DESIGN_VERSIONS, complete_randomisation, order_bernoulli, rng_for
from collection.errors import EnrollmentClosed, LabelRejected
from collection.models import Assignment, Enrollment, Label, Study
from interventions.models import Stimulus
from interventions.selectors import stimuli_eligible

logger = logging.getLogger(__name__)

REFRESH_TASK = "analysis.refresh_study"
_MAX_DRAWS = 5


def enrollment_start(
    *,
    study: Study,
    annotator: Annotator,
    prolific_study_id: str = "",
    prolific_session_id: str = "",
) -> Enrollment:
    if study.status != Study.Status.RUNNING:
        raise EnrollmentClosed(f"the study '{study.title}' is {study.status}, not running")
    enrollment, _ = Enrollment.objects.get_or_create(
        study=study,
        annotator=annotator,
        defaults={
            "prolific_study_id": prolific_study_id[:100],
            "prolific_session_id": prolific_session_id[:100],
        },
    )
    return enrollment


def enrollment_consent(*, enrollment: Enrollment) -> None:
    if enrollment.consented_at is None:
        Enrollment.objects.filter(pk=enrollment.pk, consented_at__isnull=True).update(
            consented_at=timezone.now()
        )
        enrollment.refresh_from_db(fields=["consented_at"])


def study_pause(*, study_id: int, reason: str) -> bool:
    """Pause a running study (no new enrollments or assignments); True if it was running.

    Labels for assignments already served are still accepted, so no work is lost.
    """
    paused = Study.objects.filter(pk=study_id, status=Study.Status.RUNNING).update(
        status=Study.Status.PAUSED
    )
    if paused:
        logger.info("study %s paused: %s", study_id, reason)
    return bool(paused)


def _open_assignment(enrollment: Enrollment, now) -> Assignment | None:
    return (
        Assignment.objects.filter(enrollment=enrollment, expires_at__gt=now, labels__isnull=True)
        .select_related("stimulus")
        .order_by("sequence")
        .first()
    )


def _candidates(study: Study, annotator_id: int, now) -> list[int]:
    """Eligible stimuli this annotator has not seen and that have fewer than k live
    assignments (labelled, or unlabelled and unexpired)."""
    live = Q(assignments__labels__isnull=False) | Q(assignments__expires_at__gt=now)
    return list(
        stimuli_eligible(stimulus_sets=study.stimulus_sets.all())
        .filter(is_attention_check=False)
        .exclude(assignments__annotator_id=annotator_id)
        .annotate(live=Count("assignments", filter=live, distinct=True))
        .filter(live__lt=study.replication_factor)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _live_count(stimulus_id: int, now) -> int:
    return (
        Assignment.objects.filter(stimulus_id=stimulus_id)
        .filter(Q(labels__isnull=False) | Q(expires_at__gt=now))
        .distinct()
        .count()
    )


def assignment_next(*, enrollment: Enrollment) -> Assignment | None:
    """The annotator's open assignment, or a newly drawn one; None when there is no work.

    Locking: the enrollment row is locked (SELECT ... FOR UPDATE) for the whole
    transaction, so one annotator's concurrent requests are served one at a time and get
    the same open assignment. The drawn stimulus row is then locked too and its live
    count re-read, so two annotators racing for the last slot of a stimulus cannot both
    take it (k is never exceeded); the loser draws again. On SQLite the IMMEDIATE
    transaction serialises all writers and the row locks are no-ops.

    The logged propensity is 1/|candidates| times 1/2 for the order: the probability of
    this draw given the pool at that moment.
    """
    study = enrollment.study
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        now = timezone.now()
        current = _open_assignment(enrollment, now)
        if current is not None:
            return current
        if _quota_met(enrollment) or _target_met(study) or not _running(study):
            return None
        sequence = Assignment.objects.filter(enrollment=enrollment).count()
        rng, rng_key = rng_for(seed=study.seed, enrollment_id=enrollment.pk, sequence=sequence)
        for _ in range(_MAX_DRAWS):
            candidates = _candidates(study, enrollment.annotator_id, now)
            if not candidates:
                return None
            draw = complete_randomisation(n_candidates=len(candidates), rng=rng)
            stimulus = Stimulus.objects.select_for_update().get(pk=candidates[draw.index])
            if _live_count(stimulus.pk, now) < study.replication_factor:
                break
        else:
            return None
        order = order_bernoulli(rng=rng)
        return Assignment.objects.create(
            study=study,
            enrollment=enrollment,
            annotator_id=enrollment.annotator_id,
            stimulus=stimulus,
            sequence=sequence,
            treated_on_left=order.treated_on_left,
            p_stimulus=draw.probability,
            p_order=order.probability,
            propensity=draw.probability * order.probability,
            design_name=study.design_name,
            design_version=DESIGN_VERSIONS[study.design_name],
            rng_key=rng_key,
            served_at=now,
            expires_at=now + timedelta(seconds=study.assignment_ttl_seconds),
        )


def _running(study: Study) -> bool:
    # Re-read: the study may have been paused since the caller loaded it.
    return Study.objects.filter(pk=study.pk, status=Study.Status.RUNNING).exists()


def _labels_of(enrollment: Enrollment) -> int:
    return Label.objects.filter(assignment__enrollment=enrollment, supersedes__isnull=True).count()


def _quota_met(enrollment: Enrollment) -> bool:
    return _labels_of(enrollment) >= enrollment.study.labels_per_annotator


def _target_met(study: Study) -> bool:
    if study.label_target is None:
        return False
    return Label.objects.filter(study=study, supersedes__isnull=True).count() >= study.label_target


def _outcome(choice: str, treated_on_left: bool) -> float:
    if choice == Label.Choice.TIE:
        return 0.5
    return 1.0 if (choice == Label.Choice.LEFT) == treated_on_left else 0.0


def refresh_enqueue(*, study_id: int) -> None:
    """Ask a worker to refresh the study's estimates. A broker outage is logged, never
    raised: the label is already committed and a later refresh covers it."""
    try:
        current_app.send_task(REFRESH_TASK, args=[study_id])
    except Exception:
        logger.exception("could not enqueue %s for study %s", REFRESH_TASK, study_id)


@dataclass(frozen=True)
class LabelResult:
    label: Label
    replayed: bool
    completed: bool


def label_submit(
    *,
    annotator: Annotator,
    assignment_id: int,
    submission_id: uuid.UUID,
    choice: str,
    strength: int,
    rationale: str = "",
    time_on_task_ms: int | None = None,
) -> LabelResult:
    """Store one label for an open assignment of this annotator, in one transaction.

    Idempotent on ``submission_id``: a replay returns the original label unchanged.
    Rejected with LabelRejected (nothing written) when the assignment is unknown, another
    annotator's, already labelled or expired, or the values are invalid. After commit
    the study's analysis refresh is enqueued.
    """
    replay = _replay(annotator, submission_id)
    if replay is not None:
        return replay
    if choice not in Label.Choice.values:
        raise LabelRejected(f"choice must be one of left, right, tie; got {choice!r}")
    if not isinstance(strength, int) or not 1 <= strength <= 3:
        raise LabelRejected(f"strength must be 1, 2 or 3; got {strength!r}")
    if time_on_task_ms is not None and not 0 <= time_on_task_ms < 2**31:
        raise LabelRejected("time_on_task_ms must be a non-negative number of milliseconds")
    try:
        with transaction.atomic():
            assignment = (
                Assignment.objects.select_for_update()
                .select_related("enrollment", "study")
                .filter(pk=assignment_id)
                .first()
            )
            if assignment is None or assignment.annotator_id != annotator.pk:
                raise LabelRejected("this pair is not assigned to you; load the next pair")
            if assignment.labels.exists():
                raise LabelRejected("this pair is already labelled; load the next pair")
            if assignment.expires_at <= timezone.now():
                raise LabelRejected("this pair expired before it was labelled; load a new pair")
            label = Label.objects.create(
                study=assignment.study,
                assignment=assignment,
                choice=choice,
                strength=strength,
                rationale=rationale.strip()[:5000],
                time_on_task_ms=time_on_task_ms,
                submission_id=submission_id,
                outcome=_outcome(choice, assignment.treated_on_left),
            )
            completed = _enrollment_complete_if_done(assignment.enrollment)
            study_id = assignment.study_id
            transaction.on_commit(lambda: refresh_enqueue(study_id=study_id))
    except IntegrityError:
        # A concurrent replay of the same submission won the race: return its label.
        replay = _replay(annotator, submission_id)
        if replay is None:
            raise
        return replay
    return LabelResult(label=label, replayed=False, completed=completed)


def _replay(annotator: Annotator, submission_id: uuid.UUID) -> LabelResult | None:
    label = (
        Label.objects.select_related("assignment__enrollment")
        .filter(submission_id=submission_id)
        .first()
    )
    if label is None:
        return None
    if label.assignment.annotator_id != annotator.pk:
        raise LabelRejected("this submission id was used by someone else; reload the page")
    completed = label.assignment.enrollment.completed_at is not None
    return LabelResult(label=label, replayed=True, completed=completed)


def _enrollment_complete_if_done(enrollment: Enrollment) -> bool:
    if enrollment.completed_at is not None:
        return True
    if not _quota_met(enrollment):
        return False
    Enrollment.objects.filter(pk=enrollment.pk).update(completed_at=timezone.now())
    return True
