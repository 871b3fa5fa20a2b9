"""Writes for a running study: enrollment, the assignment engine, label submission."""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from annotators.models import Annotator
from collection import designs
from collection.designs import DESIGN_VERSIONS, rng_for
from collection.errors import EnrollmentClosed, LabelRejected
from collection.models import (
    ATTENTION_CELL,
    Assignment,
    CellTally,
    Enrollment,
    Label,
    StimulusSlot,
    Study,
)
from collection.pool import (
    buckets_locked,
    slot_at,
    slot_move,
    slot_take,
    study_slots_build,
    tally_add,
)
from collection.selectors import annotator_stratum, cell_outcome_moments, seen_slots

logger = logging.getLogger(__name__)

REFRESH_TASK = "analysis.refresh_study"
# Designs that read CellTally: the others skip its updates (one write less per draw).
TALLIED_DESIGNS = (Study.Design.STRATIFIED, Study.Design.NEYMAN)


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


# --- Expiry ---------------------------------------------------------------------------


def assignment_expire(*, study_id: int | None = None, limit: int = 500) -> int:
    """Return expired, unlabelled assignments to the pool; returns how many.

    Locking: the overdue open assignments are locked with SELECT ... FOR UPDATE SKIP
    LOCKED (a row locked by a label submission right now is left to that submission,
    which rejects it as expired, and to the next sweep), then each affected study's
    bucket rows in id order, the same order the engine uses. The assignment keeps its
    row and is marked returned; its stimulus drops one level.
    """
    now = timezone.now()
    with transaction.atomic():
        overdue = Assignment.objects.select_for_update(skip_locked=True).filter(
            state=Assignment.State.OPEN, expires_at__lte=now
        )
        if study_id is not None:
            overdue = overdue.filter(study_id=study_id)
        rows = list(overdue.order_by("expires_at")[:limit])
        by_study: dict[int, list[Assignment]] = {}
        for a in rows:
            by_study.setdefault(a.study_id, []).append(a)
        for sid, assignments in sorted(by_study.items()):
            sizes = buckets_locked(sid)
            for a in assignments:
                # Without a pool (served before it existed) the build counts states.
                if sizes and not a.is_attention_check:
                    slot = StimulusSlot.objects.get(study_id=sid, stimulus_id=a.stimulus_id)
                    slot_move(sid, slot, sizes, -1)
                    if a.design_name in TALLIED_DESIGNS:
                        tally_add(sid, a.stratum, a.cell, assigned=-1)
            Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(
                state=Assignment.State.RETURNED, returned_at=now
            )
    return len(rows)


# --- The engine -----------------------------------------------------------------------


def _latest_assignment(enrollment: Enrollment) -> Assignment | None:
    # Every assignment has the study's TTL and a new one is drawn only when none is
    # open, so if any assignment is open and unexpired it is the latest one.
    return Assignment.objects.filter(enrollment=enrollment).order_by("-sequence").first()


def _draw(study: Study, available, cells: list[str], stratum: str, rng) -> designs.BucketDraw:
    name = study.design_name
    if name == Study.Design.LEAST_LABELLED:
        return designs.design_least_labelled(available=available, rng=rng)
    if name == Study.Design.STRATIFIED:
        tallies = dict(
            CellTally.objects.filter(study=study, stratum=stratum).values_list("cell", "assigned")
        )
        counts = [tallies.get(c, 0) for c in cells]
        return designs.design_stratified(available=available, stratum_counts=counts, rng=rng)
    if name == Study.Design.NEYMAN:
        n, sd = cell_outcome_moments(study=study, cells=cells)
        return designs.design_neyman(available=available, n=n, sd=sd, rng=rng)
    return designs.design_complete(available=available, rng=rng)


def _order(study: Study, enrollment: Enrollment, sequence: int, rng) -> designs.Order:
    if study.order_scheme != Study.OrderScheme.BLOCK:
        return designs.order_bernoulli(rng=rng)
    size = study.order_block_size
    position = sequence % size
    lefts = Assignment.objects.filter(
        enrollment=enrollment, sequence__gte=sequence - position, treated_on_left=True
    ).count()
    return designs.order_block(block_size=size, lefts_so_far=lefts, position=position, rng=rng)


def assignment_next(*, enrollment: Enrollment) -> Assignment | None:
    """The annotator's open assignment, or a newly drawn one; None when there is no work.

    Locking, in this order everywhere (so no two writers wait on each other in a cycle):
    1. the enrollment row (SELECT ... FOR UPDATE): one annotator's concurrent requests
       are served one at a time and get the same open assignment;
    2. every SlotBucket row of the study, in id order: a handful of rows (cells x k+1)
       that serialise draws within a study, so the availability the design sees is
       exact and the logged propensity is the true probability of the draw;
    3. the slot rows moved (only while holding 2) and the CellTally row.
    Blocking locks, not SKIP LOCKED, on purpose: skipping would make the probability
    depend on who else holds a lock, and could report "no work" for work that is merely
    locked. When the pool looks full, the study's overdue assignments are returned (in
    their own transaction, see assignment_expire) and the draw retried, so "no work"
    means none: every stimulus is at k live labels (labelled or in flight within its
    TTL) or already seen by this annotator. The only exception is an overdue assignment
    whose row a label submission holds at that instant; that submission rejects it as
    expired and the next request or the beat task returns it.
    No query scans the pool: the draw reads bucket sizes, the annotator's own
    assignments and one slot row by (cell, level, position). On SQLite the IMMEDIATE
    transaction serialises all writers and the row locks are no-ops.
    """
    study = enrollment.study
    drawn = _assignment_draw(enrollment)
    if drawn is _NO_POOL:
        study_slots_build(study=study)  # the first draw of the study builds its pool
        drawn = _assignment_draw(enrollment)
    if drawn is _POOL_FULL and assignment_expire(study_id=study.pk):
        # Abandoned assignments the beat task has not returned yet: return them now and
        # draw again, so "no work" is never said while work is merely held by the dead.
        drawn = _assignment_draw(enrollment)
    return None if drawn in (_POOL_FULL, _NO_POOL) else drawn


_POOL_FULL, _NO_POOL = object(), object()


def _assignment_draw(enrollment: Enrollment):
    with transaction.atomic():
        # The study is re-read with the lock (a pause since the caller loaded it is
        # seen) but not locked: FOR UPDATE OF the enrollment only.
        enrollment = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("study")
            .get(pk=enrollment.pk)
        )
        study = enrollment.study
        now = timezone.now()
        latest = _latest_assignment(enrollment)
        if latest and latest.state == Assignment.State.OPEN and latest.expires_at > now:
            return latest
        if (
            study.status != Study.Status.RUNNING
            or enrollment.labels_done >= study.labels_per_annotator
            or _target_met(study)
        ):
            return None
        sequence = latest.sequence + 1 if latest else 0
        sizes = buckets_locked(study.pk)
        if not sizes:
            return _NO_POOL
        seen = seen_slots(study=study, annotator_id=enrollment.annotator_id)
        k = study.replication_factor
        cells = sorted({c for c, _ in sizes if c != ATTENTION_CELL})
        available = [
            [sizes.get((c, lv), 0) - len(seen.get((c, lv), ())) for lv in range(k)] for c in cells
        ]
        if not any(n > 0 for row in available for n in row):
            return _POOL_FULL
        rng, rng_key = rng_for(seed=study.seed, enrollment_id=enrollment.pk, sequence=sequence)
        attention_key = (ATTENTION_CELL, 0)
        n_attention = sizes.get(attention_key, 0) - len(seen.get(attention_key, ()))
        attention = designs.attention_draw(
            rate=study.attention_check_rate, n_available=n_attention, rng=rng
        )
        stratum = annotator_stratum(study=study, annotator_id=enrollment.annotator_id)
        if attention.is_check:
            inner = designs.complete_randomisation(n_candidates=n_attention, rng=rng)
            bucket, index, p_inner = attention_key, inner.index, inner.probability
        else:
            draw = _draw(study, available, cells, stratum, rng)
            bucket, index, p_inner = (cells[draw.cell], draw.level), draw.index, draw.probability
        pos = designs.position_skipping(index=index, taken=seen.get(bucket, ()))
        if attention.is_check:  # checks stay at level 0: every annotator may see each
            slot = slot_at(study_id=study.pk, cell=bucket[0], level=bucket[1], pos=pos)
        else:
            slot = slot_take(
                study_id=study.pk, cell=bucket[0], level=bucket[1], pos=pos, sizes=sizes
            )
            if study.design_name in TALLIED_DESIGNS:
                tally_add(study.pk, stratum, slot.cell, assigned=1)
        order = _order(study, enrollment, sequence, rng)
        p_stimulus = attention.probability * p_inner
        return Assignment.objects.create(
            study=study,
            enrollment=enrollment,
            annotator_id=enrollment.annotator_id,
            stimulus_id=slot.stimulus_id,
            sequence=sequence,
            treated_on_left=order.treated_on_left,
            p_stimulus=p_stimulus,
            p_order=order.probability,
            propensity=p_stimulus * order.probability,
            design_name=study.design_name,
            design_version=DESIGN_VERSIONS[study.design_name],
            order_scheme=order.scheme,
            cell="" if attention.is_check else slot.cell,
            is_attention_check=attention.is_check,
            stratum=stratum,
            rng_key=rng_key,
            served_at=now,
            expires_at=now + timedelta(seconds=study.assignment_ttl_seconds),
        )


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
    labels_done: int  # the enrollment's labels, this one included


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

    Locking follows the engine's order: the annotator's enrollment row first (so a
    label and a draw for the same annotator never interleave), then the assignment row
    (FOR UPDATE OF those rows only: the study row is read, never locked); the CellTally
    row last, and only under the adaptive design that reads it.
    """
    if choice not in Label.Choice.values:
        raise LabelRejected(f"choice must be one of left, right, tie; got {choice!r}")
    if not isinstance(strength, int) or isinstance(strength, bool) or not 1 <= strength <= 3:
        raise LabelRejected(f"strength must be 1, 2 or 3; got {strength!r}")
    if time_on_task_ms is not None and not 0 <= time_on_task_ms < 2**31:
        raise LabelRejected("time_on_task_ms must be a non-negative number of milliseconds")
    owned = Assignment.objects.filter(pk=assignment_id, annotator_id=annotator.pk)
    try:
        with transaction.atomic():
            # Finds the assignment's enrollment and locks it in one statement.
            enrollment = (
                Enrollment.objects.select_for_update()
                .filter(pk=Subquery(owned.values("enrollment_id")))
                .first()
            )
            if enrollment is None:
                _replay(annotator, submission_id)  # says so if the id is someone else's
                raise LabelRejected("this pair is not assigned to you; load the next pair")
            assignment = (
                Assignment.objects.select_for_update(of=("self",))
                .select_related("study")
                .get(pk=assignment_id)
            )
            if assignment.state == Assignment.State.LABELLED:
                # A concurrent submission of the same id may have committed while this
                # one waited for the locks: that is a replay, not a second label.
                replay = _replay(annotator, submission_id)
                if replay is not None:
                    return replay
                raise LabelRejected("this pair is already labelled; load the next pair")
            if assignment.state == Assignment.State.RETURNED or assignment.expires_at <= (
                timezone.now()
            ):
                raise LabelRejected("this pair expired before it was labelled; load a new pair")
            outcome = _outcome(choice, assignment.treated_on_left)
            label = Label.objects.create(
                study=assignment.study,
                assignment=assignment,
                choice=choice,
                strength=strength,
                rationale=rationale.strip()[:5000],
                time_on_task_ms=time_on_task_ms,
                submission_id=submission_id,
                outcome=outcome,
            )
            Assignment.objects.filter(pk=assignment.pk).update(state=Assignment.State.LABELLED)
            completed = _enrollment_label_count(enrollment, assignment.study)
            if assignment.study.design_name == Study.Design.NEYMAN and assignment.cell:
                tally_add(
                    assignment.study_id,
                    assignment.stratum,
                    assignment.cell,
                    labels=1,
                    y_sum=outcome,
                    y_sq_sum=outcome * outcome,
                )
            study_id = assignment.study_id
            transaction.on_commit(lambda: refresh_enqueue(study_id=study_id))
    except IntegrityError:
        # A concurrent replay of the same submission won the race: return its label.
        replay = _replay(annotator, submission_id)
        if replay is None:
            raise
        return replay
    return LabelResult(
        label=label, replayed=False, completed=completed, labels_done=enrollment.labels_done
    )


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
    enrollment = label.assignment.enrollment
    return LabelResult(
        label=label,
        replayed=True,
        completed=enrollment.completed_at is not None,
        labels_done=enrollment.labels_done,
    )


def _enrollment_label_count(enrollment: Enrollment, study: Study) -> bool:
    """Count a new label on the enrollment, whose row the caller has locked and read
    (so the count is exact), completing it at its quota; True if it is complete."""
    enrollment.labels_done += 1
    if enrollment.completed_at is None and enrollment.labels_done >= study.labels_per_annotator:
        enrollment.completed_at = timezone.now()
    Enrollment.objects.filter(pk=enrollment.pk).update(
        labels_done=enrollment.labels_done, completed_at=enrollment.completed_at
    )
    return enrollment.completed_at is not None
