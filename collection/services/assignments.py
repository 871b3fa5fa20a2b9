"""The assignment engine: draw each annotator's next stimulus under the study's design,
and return abandoned assignments to the pool."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from collection import designs
from collection.designs import DESIGN_VERSIONS, rng_for
from collection.engine_sql import (
    DrawContext,
    enrollment_locked_for_draw,
    lefts_in_block,
    row_insert,
)
from collection.errors import EnrollmentNotReady
from collection.models import ATTENTION_CELL, Assignment, CellTally, Label, StimulusSlot, Study
from collection.pool import (
    buckets_locked,
    pool_locked,
    slot_at,
    slot_move,
    slot_take,
    study_slots_build,
    tally_add,
    tally_add_statement,
)
from collection.selectors import annotator_stratum, cell_outcome_moments, completion_code_issued

# Designs that read CellTally: the others skip its updates (one write less per draw).
TALLIED_DESIGNS = (Study.Design.STRATIFIED, Study.Design.NEYMAN)


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
        _return_to_pool(rows, now)
    return len(rows)


def assignments_release(*, enrollment_id: int) -> int:
    """Return the enrollment's open assignments to the pool now, expired or not (its
    annotator stopped); returns how many.

    Call it inside the transaction that holds the enrollment row's lock (as the engine
    and the label service take it first), so no draw or label of this annotator runs
    meanwhile; the assignment rows and then the bucket rows are locked in the engine's
    order.
    """
    rows = list(
        Assignment.objects.select_for_update()
        .filter(enrollment_id=enrollment_id, state=Assignment.State.OPEN)
        .order_by("pk")
    )
    _return_to_pool(rows, timezone.now())
    return len(rows)


def _return_to_pool(rows: list[Assignment], now: datetime) -> None:
    """Mark the locked open assignments returned and drop each stimulus one level."""
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


# --- The engine -----------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentNext:
    """What an annotator gets next: an open assignment, or none, with their progress."""

    assignment: Assignment | None
    labels_done: int
    labels_total: int
    completion_code: str | None  # the annotator's code once their quota is met
    study_kind: str = "preference"  # a pretest's pairs get check questions, not a choice

    @property
    def status(self) -> str:
        """pair (label it), done (quota met) or no_work (none left for this annotator)."""
        if self.assignment is not None:
            return "pair"
        return "done" if self.completion_code else "no_work"


def assignment_next(*, enrollment_id: int) -> AssignmentNext:
    """The annotator's open assignment, or a newly drawn one; none when there is no work.

    Raises EnrollmentNotReady when the annotator has not consented or has not answered
    the study's questionnaire (covariates are recorded before the first exposure).

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
    assignments and one slot row by (cell, level, position). What does not depend on the
    pool is read before the bucket locks; under them a draw makes three round trips on
    PostgreSQL (lock and read; move the slot and write the assignment; commit), since
    every other draw of the study waits for them. On SQLite the IMMEDIATE transaction
    serialises all writers and row locks are no-ops.
    """
    attempt = _assignment_draw(enrollment_id)
    if attempt.retry is _Retry.NO_POOL:
        study_slots_build(study=attempt.study)  # the first draw of the study builds its pool
        attempt = _assignment_draw(enrollment_id)
    if attempt.retry is _Retry.POOL_FULL and assignment_expire(study_id=attempt.study.pk):
        # Abandoned assignments the beat task has not returned yet: return them now and
        # draw again, so "no work" is never said while work is merely held by the dead.
        attempt = _assignment_draw(enrollment_id)
    return attempt.result


class _Retry(Enum):
    NO_POOL = "the study's pool is not built yet"
    POOL_FULL = "nothing is available to this annotator"


class _Attempt(NamedTuple):
    result: AssignmentNext
    study: Study
    retry: _Retry | None = None


def _assignment_draw(enrollment_id: int) -> _Attempt:
    with transaction.atomic():
        now = timezone.now()
        context = _enrollment_ready(enrollment_id, now)
        study = context.study
        done = AssignmentNext(
            assignment=None,
            labels_done=context.labels_done,
            labels_total=study.labels_per_annotator,
            completion_code=completion_code_issued(
                study_id=study.pk,
                study_code=study.completion_code,
                enrollment_id=enrollment_id,
                attention_min=study.attention_min_share,
            )
            if context.completed
            else None,
            study_kind=study.kind,
        )
        latest = context.latest
        if latest is not None and latest.is_open:
            open_one = Assignment.objects.get(pk=latest.pk)
            return _Attempt(replace(done, assignment=open_one), study)
        if (
            study.status != Study.Status.RUNNING
            or context.labels_done >= study.labels_per_annotator
            or _target_met(study)
        ):
            return _Attempt(done, study)
        sequence = latest.sequence + 1 if latest else 0
        # What does not depend on the pool is read before its locks are taken.
        stratum = annotator_stratum(study=study, annotator_id=context.annotator_id)
        lefts = _lefts_in_block(study, enrollment_id, sequence)
        pool = pool_locked(study_id=study.pk, annotator_id=context.annotator_id)
        if not pool.sizes:
            return _Attempt(done, study, _Retry.NO_POOL)
        k = study.replication_factor
        cells = sorted({c for c, _ in pool.sizes if c != ATTENTION_CELL})
        available = [
            [pool.sizes.get((c, lv), 0) - len(pool.seen.get((c, lv), ())) for lv in range(k)]
            for c in cells
        ]
        if not any(n > 0 for row in available for n in row):
            return _Attempt(done, study, _Retry.POOL_FULL)
        rng, rng_key = rng_for(seed=study.seed, enrollment_id=enrollment_id, sequence=sequence)
        attention_key = (ATTENTION_CELL, 0)
        n_attention = pool.sizes.get(attention_key, 0) - len(pool.seen.get(attention_key, ()))
        attention = designs.attention_draw(
            rate=study.attention_check_rate, n_available=n_attention, rng=rng
        )
        if attention.is_check:
            inner = designs.complete_randomisation(n_candidates=n_attention, rng=rng)
            bucket, index, p_inner = attention_key, inner.index, inner.probability
        else:
            draw = _draw(study, available, cells, stratum, rng)
            bucket, index, p_inner = (cells[draw.cell], draw.level), draw.index, draw.probability
        pos = designs.position_skipping(index=index, taken=pool.seen.get(bucket, ()))
        order = _order(study, lefts, sequence, rng)
        p_stimulus = attention.probability * p_inner
        values = {
            "study_id": study.pk,
            "enrollment_id": enrollment_id,
            "annotator_id": context.annotator_id,
            "sequence": sequence,
            "treated_on_left": order.treated_on_left,
            "p_stimulus": p_stimulus,
            "p_order": order.probability,
            "propensity": p_stimulus * order.probability,
            "design_name": study.design_name,
            "design_version": DESIGN_VERSIONS[study.design_name],
            "order_scheme": order.scheme,
            "cell": "" if attention.is_check else bucket[0],
            "is_attention_check": attention.is_check,
            "stratum": stratum,
            "rng_key": rng_key,
            "served_at": now,
            "expires_at": now + timedelta(seconds=study.assignment_ttl_seconds),
        }
        if attention.is_check:  # checks stay at level 0: every annotator may see each
            slot = slot_at(study_id=study.pk, cell=bucket[0], level=bucket[1], pos=pos)
            assignment = row_insert(Assignment, {**values, "stimulus_id": slot.stimulus_id})
        else:
            # The slot moves up a level and the assignment is written in one round trip.
            moves, stimulus = slot_take(
                study_id=study.pk, cell=bucket[0], level=bucket[1], pos=pos, sizes=pool.sizes
            )
            if study.design_name in TALLIED_DESIGNS:
                moves.append(tally_add_statement(study.pk, stratum, bucket[0], assigned=1))
            assignment = row_insert(
                Assignment, values, before=moves, scalar={"stimulus_id": stimulus}
            )
        return _Attempt(replace(done, assignment=assignment), study)


def _enrollment_ready(enrollment_id: int, now: datetime) -> DrawContext:
    # The study is read with the lock (a pause since the caller's request began is
    # seen) but not locked: FOR UPDATE OF the enrollment only.
    context = enrollment_locked_for_draw(enrollment_id, now)
    if context is None:
        raise EnrollmentNotReady("this enrollment does not exist; open the study's link again")
    if context.ended:
        raise EnrollmentNotReady(
            "you have stopped taking part in this study (declined or returned it), so "
            "there are no more pairs for you"
        )
    if not context.consented:
        raise EnrollmentNotReady("consent to the study on its entry page before requesting pairs")
    if not context.questionnaire_done:
        raise EnrollmentNotReady(
            "answer the study's questionnaire on its pages before requesting pairs"
        )
    if not context.practice_done:
        raise EnrollmentNotReady("answer the study's practice pairs on its pages first")
    return context


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


def _lefts_in_block(study: Study, enrollment_id: int, sequence: int) -> int:
    """Under permuted blocks, how many of this block's earlier assignments had the
    treated response on the left (0 otherwise)."""
    if study.order_scheme != Study.OrderScheme.BLOCK:
        return 0
    return lefts_in_block(enrollment_id, sequence - sequence % study.order_block_size)


def _order(study: Study, lefts: int, sequence: int, rng) -> designs.Order:
    if study.order_scheme != Study.OrderScheme.BLOCK:
        return designs.order_bernoulli(rng=rng)
    size = study.order_block_size
    return designs.order_block(
        block_size=size, lefts_so_far=lefts, position=sequence % size, rng=rng
    )


def _target_met(study: Study) -> bool:
    if study.label_target is None:
        return False
    return Label.objects.filter(study=study, supersedes__isnull=True).count() >= study.label_target
