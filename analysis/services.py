"""Writes for analysis: fold new labels into per-annotator sums, rebuild them from scratch
(repairing drift), store estimate snapshots, and sweep studies whose refresh was missed.

Locking: every write to a study's sums runs in one transaction that first locks the
study's RefreshState row (SELECT ... FOR UPDATE), so an incremental refresh and a full
rebuild of the same study never interleave. The coalescing lease in ``analysis.coalesce``
sits above this and keeps workers from queueing on the row lock.

Why a refresh cannot miss a label. Label ids come from one sequence and are drawn before
commit, so ids commit out of order. A refresh reads, in ONE snapshot (REPEATABLE READ on
PostgreSQL; a SQLite transaction is one snapshot already): the study's labels past its
watermark and its pending ids, and every id present in the range the watermark moves
over. In that one snapshot each id up to the new watermark is either visible (folded if
the study's, skipped if another study's) or not (still uncommitted, or rolled back): the
invisible ones are recorded as pending and re-read by every later refresh until they
appear or expire. A label that commits while the refresh runs is invisible to it, so it
is pending (id at or below the new watermark) or past the watermark; either way the next
refresh folds it, and the sweep asks for that refresh if no message does. Reading the
two in separate READ COMMITTED statements, as before, let a label commit between them
and be taken as present but never folded. A full rebuild reads all labels and the
present ids in one snapshot the same way. A snapshot that meets a concurrent update of
the RefreshState row fails with a serialization error and is retried from the start.
"""

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeVar

import numpy as np
import psycopg
from celery import current_app
from django.db import OperationalError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from analysis.coalesce import queued_claim, queued_clear, queued_keep, refresh_lock
from analysis.models import AnnotatorSums, Estimate, RefreshRun, RefreshState
from analysis.selectors import (
    NewLabel,
    label_arrays,
    label_count,
    label_ids_existing,
    label_ids_present,
    label_range,
    labels_to_fold,
    labels_uncovered,
    outcome_rule,
    studies_with_pending_labels,
    study_interventions,
)
from analysis.snapshots import snapshots_store
from analysis.stopping import study_stopping_apply
from collection.models import Study, Webhook
from collection.services.webhooks import webhooks_emit

logger = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_TASK = "analysis.refresh_study"
# A label id below the watermark that is still missing after this long was rolled back.
PENDING_TTL_SECONDS = 300
FIELDS = ("n", "sum_w", "sum_ws", "sum_wy", "sum_wsy")


def _contribution(label: NewLabel, outcome: float) -> np.ndarray:
    w = label.weight
    s = 1.0 if label.treated_on_left else -1.0
    return np.array([1.0, w, w * s, w * outcome, w * s * outcome])


def _fold(
    labels: list[NewLabel], names: dict[str, int], old: int, pending: set[int]
) -> tuple[dict, int]:
    """Sum the labels' contributions per (intervention id, annotator id). A correction
    adds itself and removes the label it supersedes if that one was already folded (at or
    below the old watermark and not pending, or earlier in this batch). Also returns how
    many of the labels are not corrections (what a label budget counts)."""
    deltas: dict[tuple[int, int], np.ndarray] = {}
    batch: set[int] = set()
    for label in labels:
        batch.add(label.pk)
        replaced = label.supersedes_id
        replaced_folded = replaced is not None and (
            replaced in batch or (replaced <= old and replaced not in pending)
        )
        if label.is_attention_check:
            continue
        for name, on in label.treatment.items():
            if on != 1 or name not in names:
                continue
            key = (names[name], label.annotator_id)
            delta = deltas.setdefault(key, np.zeros(5))
            if label.outcome is not None:
                delta += _contribution(label, label.outcome)
            if replaced_folded and label.supersedes_outcome is not None:
                delta -= _contribution(label, label.supersedes_outcome)
    return deltas, sum(label.supersedes_id is None for label in labels)


def _pending(state: RefreshState, low: int, high: int, now: float) -> list[list]:
    """Label ids in (low, high] not committed yet, plus earlier such ids still missing.

    On PostgreSQL ids are drawn before commit, so a label with a smaller id can commit
    after a refresh has moved the watermark past it; those ids are re-read until they
    appear (then folded if they belong to this study) or expire (rolled back).
    """
    now_present = label_ids_existing(ids=[e[0] for e in state.pending_ids])
    keep = [
        entry
        for entry in state.pending_ids
        if now - entry[1] < PENDING_TTL_SECONDS and entry[0] not in now_present
    ]
    if high > low:
        present = label_ids_present(low=low, high=high)
        keep += [[i, now] for i in range(low + 1, high + 1) if i not in present]
    return keep


def _state_locked(study_id: int) -> RefreshState:
    return RefreshState.objects.select_for_update().get(study_id=study_id)


SNAPSHOT_ATTEMPTS = 5


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """A transaction whose reads all see one snapshot of the database. Nested in an outer
    transaction (tests, shell) it joins that one, whose reads already agree with each
    other unless other connections commit meanwhile."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _serialization_failure(error: OperationalError) -> bool:
    return isinstance(error.__cause__, psycopg.errors.SerializationFailure)


def _retry_on_conflict(function: Callable[..., T]) -> Callable[..., T]:
    """Run a snapshot transaction again when PostgreSQL refuses it for a concurrent update
    of the rows it locks (another refresh or rebuild of the same study got there first)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                if not _serialization_failure(error) or attempt == SNAPSHOT_ATTEMPTS:
                    raise
                logger.info("%s: concurrent update, attempt %d", function.__name__, attempt)
        raise AssertionError("unreachable")

    return wrapper


def _apply(study_id: int, deltas: dict, watermark: int) -> None:
    keys = list(deltas)
    existing = {
        (row.intervention_id, row.annotator_id): row
        for row in AnnotatorSums.objects.filter(
            study_id=study_id,
            annotator_id__in={a for _, a in keys},
            intervention_id__in={i for i, _ in keys},
        )
    }
    new, changed = [], []
    for (intervention_id, annotator_id), delta in deltas.items():
        row = existing.get((intervention_id, annotator_id))
        if row is None:
            row = AnnotatorSums(
                study_id=study_id,
                intervention_id=intervention_id,
                annotator_id=annotator_id,
                **dict.fromkeys(FIELDS, 0),
            )
            new.append(row)
        else:
            changed.append(row)
        for field, value in zip(FIELDS, delta, strict=True):
            setattr(row, field, getattr(row, field) + (int(value) if field == "n" else value))
        row.watermark = watermark
    AnnotatorSums.objects.bulk_create(new)
    AnnotatorSums.objects.bulk_update(changed, [*FIELDS, "watermark"])


def _run_store(run: RefreshRun, *, snapshot: bool) -> list[Estimate]:
    """Log the run and store its snapshot (if asked), inside the caller's transaction."""
    run.finished_at, run.snapshots = run.started_at, 0
    run.save()
    estimates = snapshots_store(study=run.study, run=run) if snapshot else []
    run.snapshots = len(estimates)
    run.finished_at = timezone.now()
    run.save(update_fields=["snapshots", "finished_at"])
    if estimates:
        webhooks_emit(
            study_id=run.study_id,
            event=Webhook.Event.ESTIMATE_UPDATED,
            data={
                "watermark": run.watermark_to,
                "estimates": [
                    {
                        "intervention": e.intervention.name,
                        "estimand": e.estimand,
                        "subgroup": e.subgroup,
                        "point": e.point,
                        "ci_low": e.ci_low,
                        "ci_high": e.ci_high,
                        "n_labels": e.n_labels,
                        "n_annotators": e.n_annotators,
                    }
                    for e in estimates
                    if e.subgroup == "all"
                ],
            },
        )
    return estimates


@_retry_on_conflict
def study_refresh(*, study_id: int, trigger: str = "label") -> RefreshRun | None:
    """Fold the study's labels past its watermark into the sums and store a snapshot.

    Cost grows with the new labels plus the study's annotators, not with all its labels.
    Returns the run, or None when there was nothing new (no run is logged then).
    """
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return None
    started = timezone.now()
    state, _ = RefreshState.objects.get_or_create(study_id=study_id)
    if state.outcome_rule and state.outcome_rule != outcome_rule(study):
        # The tie or strength setting changed: every stored sum is on the old scale.
        return study_sums_rebuild(study_id=study_id, trigger="settings")
    with _one_snapshot():
        state = _state_locked(study_id)
        pending_ids = [entry[0] for entry in state.pending_ids]
        labels = labels_to_fold(study=study, after=state.watermark, also=pending_ids)
        if not labels:
            return None
        old = state.watermark
        names = {i.name: i.pk for i in study_interventions(study=study)}
        deltas, counted = _fold(labels, names, old, set(pending_ids))
        new = max(old, labels[-1].pk)
        # A first refresh looks for missing ids only from the study's first label on.
        low = old or min(lb.pk for lb in labels) - 1
        state.pending_ids = _pending(state, low, new, time.time())
        state.watermark = new
        state.labels_total += counted
        state.outcome_rule = outcome_rule(study)
        state.save(update_fields=["watermark", "pending_ids", "labels_total", "outcome_rule"])
        _apply(study_id, deltas, new)
        run = RefreshRun(
            study=study,
            kind=RefreshRun.Kind.INCREMENTAL,
            trigger=trigger,
            started_at=started,
            labels_folded=len(labels),
            watermark_from=old,
            watermark_to=new,
        )
        estimates = _run_store(run, snapshot=True)
    study_stopping_apply(study=study, estimates=estimates)
    return run


def study_refresh_request(*, study_id: int, trigger: str = "label", queued: bool = False) -> str:
    """What the refresh task does. Returns 'covered' (nothing new), 'refreshed',
    'missing' (the study was deleted), 'busy' (another refresh holds the study and this
    request is now the one queued behind it: retry it shortly with ``queued=True``) or
    'coalesced' (another request is already queued and will cover this one's labels)."""
    if not Study.objects.filter(pk=study_id).exists():
        return "missing"
    state, _ = RefreshState.objects.get_or_create(study_id=study_id)
    if not labels_uncovered(state=state):
        return "covered"
    with refresh_lock(study_id=study_id) as held:
        if not held:
            if queued:
                queued_keep(study_id=study_id)
                return "busy"
            return "busy" if queued_claim(study_id=study_id) else "coalesced"
        if queued:
            queued_clear(study_id=study_id)
        run = study_refresh(study_id=study_id, trigger=trigger)
    return "covered" if run is None else "refreshed"


def _stored_sums(study_id: int) -> dict[tuple[int, int], np.ndarray]:
    return {
        (row[0], row[1]): np.array(row[2:], dtype=float)
        for row in AnnotatorSums.objects.filter(study_id=study_id).values_list(
            "intervention_id", "annotator_id", *FIELDS
        )
    }


def _rebuilt_sums(study: Study) -> dict[tuple[int, int], np.ndarray]:
    data = label_arrays(study=study)
    sums: dict[tuple[int, int], np.ndarray] = {}
    for intervention in study_interventions(study=study):
        mask = np.array([t.get(intervention.name) == 1 for t in data.treatments], dtype=bool)
        w = data.weight[mask]
        s = 2.0 * data.treated_on_left[mask] - 1.0
        y = data.outcome[mask]
        ids, index = np.unique(data.annotator[mask], return_inverse=True)
        columns = [np.ones_like(w), w, w * s, w * y, w * s * y]
        stacked = np.stack([np.bincount(index, c, len(ids)) for c in columns], -1)
        sums.update({(intervention.pk, int(a)): stacked[k] for k, a in enumerate(ids)})
    return sums


def _as_fields(values: np.ndarray) -> dict[str, float | int]:
    return {f: (int(v) if f == "n" else float(v)) for f, v in zip(FIELDS, values, strict=True)}


def _drift(stored: dict, rebuilt: dict) -> float:
    """Largest absolute difference, relative to the field's size where that exceeds 1."""
    worst = 0.0
    for key in stored.keys() | rebuilt.keys():
        a, b = stored.get(key, np.zeros(5)), rebuilt.get(key, np.zeros(5))
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
    return worst


@_retry_on_conflict
def study_sums_rebuild(*, study_id: int, trigger: str = "schedule") -> RefreshRun | None:
    """Rebuild the study's sums from every current label, record how far the incremental
    state had drifted, replace it, and store a snapshot if anything changed."""
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return None
    started = timezone.now()
    RefreshState.objects.get_or_create(study_id=study_id)
    with _one_snapshot():
        state = _state_locked(study_id)
        old = state.watermark
        first, last = label_range(study_id=study_id)
        new = max(old, last)
        stored, rebuilt = _stored_sums(study_id), _rebuilt_sums(study)
        drift = _drift(stored, rebuilt)
        state.pending_ids = _pending(state, old or max(0, first - 1), new, time.time())
        state.watermark = new
        state.labels_total = label_count(study_id=study_id)
        state.outcome_rule = outcome_rule(study)
        state.save(update_fields=["watermark", "pending_ids", "labels_total", "outcome_rule"])
        AnnotatorSums.objects.filter(study_id=study_id).delete()
        AnnotatorSums.objects.bulk_create(
            AnnotatorSums(
                study_id=study_id,
                intervention_id=intervention_id,
                annotator_id=annotator_id,
                watermark=new,
                **_as_fields(values),
            )
            for (intervention_id, annotator_id), values in rebuilt.items()
        )
        if drift > 1e-9:
            logger.warning("study %s: incremental sums drifted by %.3g; repaired", study_id, drift)
        run = RefreshRun(
            study=study,
            kind=RefreshRun.Kind.FULL,
            trigger=trigger,
            started_at=started,
            labels_folded=0,
            watermark_from=old,
            watermark_to=new,
            drift=drift,
        )
        estimates = _run_store(run, snapshot=drift > 1e-9 or new > old)
    study_stopping_apply(study=study, estimates=estimates)
    return run


def studies_rebuild(*, trigger: str = "schedule") -> list[RefreshRun]:
    """The periodic full recompute: every study with labels, one at a time."""
    runs = []
    for study_id in (
        Study.objects.filter(labels__isnull=False).distinct().values_list("pk", flat=True)
    ):
        with refresh_lock(study_id=study_id) as held:
            if held:
                run = study_sums_rebuild(study_id=study_id, trigger=trigger)
                runs.extend([run] if run else [])
    return runs


def refresh_sweep(*, min_age_seconds: float = 30, trigger: str = "sweep") -> list[int]:
    """Enqueue a refresh for every study with labels older than ``min_age_seconds`` that
    its sums do not cover yet (their refresh was missed: the broker was down at commit, or
    the worker died), and for every study with a pending label that has committed since.
    The younger ones are left to the refresh their own commit enqueued. Sending needs no
    lease: a study whose lease a dead worker held gets through once it expires. The
    refreshes are logged with ``trigger`` (beat's sweep, or a worker's start)."""
    cutoff = timezone.now() - timedelta(seconds=min_age_seconds)
    past_watermark = (
        Study.objects.annotate(covered=Coalesce(F("refresh_state__watermark"), Value(0)))
        .filter(labels__pk__gt=F("covered"), labels__created_at__lt=cutoff)
        .values_list("pk", flat=True)
        .distinct()
    )
    missed = sorted({*past_watermark, *studies_with_pending_labels()})
    for study_id in missed:
        current_app.send_task(REFRESH_TASK, args=[study_id], kwargs={"trigger": trigger})
    if missed:
        logger.warning(
            "refresh sweep (%s): studies %s had labels no refresh covered", trigger, missed
        )
    return missed


def study_estimates_refresh(*, study_id: int) -> list[Estimate]:
    """Refresh now, in this process (tests, shell): the snapshot rows stored, [] if none."""
    run = study_refresh(study_id=study_id, trigger="direct")
    return [] if run is None else list(run.estimates.select_related("intervention"))
