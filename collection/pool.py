"""The study's pool of stimuli as a slot table, so a draw never scans the pool.

Each eligible stimulus has a StimulusSlot: its live count in the study ("level") and a
dense position within its (cell, level) group; SlotBucket rows hold each group's size and
are the engine's lock. A draw reads the sizes and fetches one slot by position; moving a
stimulus up or down a level fills its old position with the group's last slot.
"""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count

from collection.engine_sql import Statement, execute_batch, locking
from collection.models import ATTENTION_CELL, Assignment, CellTally, SlotBucket, StimulusSlot, Study
from interventions.models import Stimulus


def study_slots_build(*, study: Study) -> int:
    """Put the study's eligible stimuli that are not yet in its pool at level 0; returns
    how many were added. Idempotent, and one INSERT ... SELECT, so a million stimuli take
    seconds. The engine calls it at the first draw; call it again after adding stimuli to
    a running study. Locks the study row (FOR NO KEY UPDATE, which does not block the
    key-share locks of rows inserted that reference the study) so concurrent first
    draws build once; callers hold no engine locks when they call it."""
    with transaction.atomic():
        study = Study.objects.select_for_update(no_key=True).get(pk=study.pk)
        # The buckets too, in the engine's order: sizes are counted below from the slot
        # table, and must not be overwritten by a draw committing in between.
        existing = list(SlotBucket.objects.select_for_update().filter(study=study).order_by("id"))
        slot, bucket = StimulusSlot._meta.db_table, SlotBucket._meta.db_table
        through = Study.stimulus_sets.through
        cell = f"CASE WHEN s.is_attention_check THEN '{ATTENTION_CELL}' ELSE s.cell END"
        # A stimulus's level is its live assignments in this study (zero for a new study;
        # exact for one that ran before its pool existed). Attention checks stay at 0.
        # Joins rather than correlated subqueries: a million stimuli build in seconds.
        sql = f"""
            INSERT INTO {slot} (study_id, stimulus_id, cell, level, pos)
            SELECT %s, src.id, src.cell, src.level, COALESCE(b.size, 0)
                   + ROW_NUMBER() OVER (PARTITION BY src.cell, src.level ORDER BY src.id) - 1
            FROM (
                SELECT s.id, {cell} AS cell,
                       CASE WHEN s.is_attention_check THEN 0 ELSE COALESCE(live.n, 0) END
                       AS level
                FROM {Stimulus._meta.db_table} s
                LEFT JOIN {slot} x ON x.study_id = %s AND x.stimulus_id = s.id
                LEFT JOIN (
                    SELECT a.stimulus_id, COUNT(*) AS n FROM {Assignment._meta.db_table} a
                    WHERE a.study_id = %s AND a.state <> 'returned' GROUP BY a.stimulus_id
                ) live ON live.stimulus_id = s.id
                WHERE s.stimulus_set_id IN (
                    SELECT stimulusset_id FROM {through._meta.db_table} WHERE study_id = %s)
                  AND s.check_status = %s
                  AND (s.review_status = %s OR NOT %s)
                  AND (s.validation_status = %s OR NOT %s)
                  AND x.id IS NULL
            ) src
            LEFT JOIN {bucket} b
              ON b.study_id = %s AND b.level = src.level AND b.cell = src.cell
        """
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One bulk join: nested loops are never right here, and the planner picks
                # them when the stimuli came in bulk sooner than autovacuum analysed them
                # (rescanning the live counts per stimulus: quadratic, minutes at 100,000).
                cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute(
                sql,
                [
                    study.pk,
                    study.pk,
                    study.pk,
                    study.pk,
                    Stimulus.CheckStatus.PASSED,
                    Stimulus.ReviewStatus.APPROVED,
                    study.require_approved,
                    Stimulus.ValidationStatus.PASSED,
                    study.require_validated,
                    study.pk,
                ],
            )
            added = max(cursor.rowcount, 0)
            if added and connection.vendor == "postgresql":
                # Fresh statistics: planned with the empty table's, the engine's read of
                # an annotator's seen slots walks every slot of the study on each draw.
                cursor.execute(f"ANALYZE {slot}")
        if existing and not added:
            return 0
        sizes = (
            StimulusSlot.objects.filter(study=study)
            .values_list("cell", "level")
            .annotate(n=Count("id"))
        )
        counts = {(c, lv): n for c, lv, n in sizes}
        cells = {c for c, _ in counts}
        top = max([study.replication_factor] + [lv for _, lv in counts])
        for c in cells:
            for level in range((0 if c == ATTENTION_CELL else top) + 1):
                SlotBucket.objects.update_or_create(
                    study=study, cell=c, level=level, defaults={"size": counts.get((c, level), 0)}
                )
    return added


# The functions below run while the study's bucket locks are held, so every other draw
# in the study waits for them: plain SQL, as ORM query compilation would be most of
# that wait, and as few round trips as the reads and writes allow.
_SLOT, _BUCKET = StimulusSlot._meta.db_table, SlotBucket._meta.db_table
_ASSIGNMENT, _TALLY = Assignment._meta.db_table, CellTally._meta.db_table

Bucket = tuple[str, int]  # (cell, level)


@dataclass(frozen=True)
class PoolView:
    """A study's bucket sizes, and where the stimuli one annotator has seen sit now."""

    sizes: dict[Bucket, int]
    seen: dict[Bucket, list[int]]


def pool_locked(*, study_id: int, annotator_id: int) -> PoolView:
    """Lock every bucket row of the study (in id order, so lockers never deadlock) and
    read their sizes and the positions of the stimuli this annotator was assigned (in any
    study: nobody sees a stimulus twice), in one round trip. The positions are read
    after the locks are granted (a statement of their own, so a snapshot of its own):
    draws that committed while this one waited have moved slots. Small: the annotator's
    own assignments, never the pool. Sizes are empty until the pool is built."""
    buckets, seen = execute_batch(
        [
            _buckets_locking(study_id),
            (
                # (annotator, stimulus) is unique, so the join yields each slot once.
                f"SELECT s.cell, s.level, s.pos FROM {_SLOT} s "
                f"JOIN {_ASSIGNMENT} a ON a.stimulus_id = s.stimulus_id "
                "WHERE s.study_id = %s AND a.annotator_id = %s",
                [study_id, annotator_id],
            ),
        ]
    )
    positions: dict[Bucket, list[int]] = {}
    for cell, level, pos in seen:
        positions.setdefault((cell, level), []).append(pos)
    return PoolView(sizes={(c, lv): n for c, lv, n in buckets}, seen=positions)


def buckets_locked(study_id: int) -> dict[Bucket, int]:
    """Lock every bucket row of the study, as pool_locked does, and return their sizes."""
    (buckets,) = execute_batch([_buckets_locking(study_id)])
    return {(c, lv): n for c, lv, n in buckets}


def _buckets_locking(study_id: int) -> Statement:
    # In id order, the same for every locker, so no two wait on each other in a cycle.
    sql = f"SELECT cell, level, size FROM {_BUCKET} WHERE study_id = %s ORDER BY id"
    return sql + locking(), [study_id]


def slot_at(*, study_id: int, cell: str, level: int, pos: int) -> StimulusSlot:
    """The slot at a bucket position. The caller holds the study's bucket locks."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, stimulus_id FROM {_SLOT} "
            "WHERE study_id = %s AND cell = %s AND level = %s AND pos = %s",
            [study_id, cell, level, pos],
        )
        row = cursor.fetchone()
    if row is None:
        raise StimulusSlot.DoesNotExist(f"no slot at {cell} level {level} position {pos}")
    return StimulusSlot(
        id=row[0], study_id=study_id, stimulus_id=row[1], cell=cell, level=level, pos=pos
    )


def slot_take(
    *, study_id: int, cell: str, level: int, pos: int, sizes: dict[Bucket, int]
) -> tuple[list[Statement], Statement]:
    """Move the slot at a bucket position one level up: the statements that do it
    (``sizes`` is updated as they will leave it), and a one-row query of its stimulus
    id, valid after them. The caller runs them, holding the study's bucket locks."""
    dst = (cell, level + 1)
    _bucket_ensure(study_id, dst, sizes)
    landing = sizes[dst]
    move = (
        f"UPDATE {_SLOT} SET level = %s, pos = %s "
        "WHERE study_id = %s AND cell = %s AND level = %s AND pos = %s",
        [dst[1], landing, study_id, cell, level, pos],
    )
    stimulus = (
        f"SELECT stimulus_id FROM {_SLOT} "
        "WHERE study_id = %s AND cell = %s AND level = %s AND pos = %s",
        [study_id, cell, dst[1], landing],
    )
    return [move, *_hole_fill(study_id, (cell, level), pos, sizes, dst)], stimulus


def slot_move(study_id: int, slot: StimulusSlot, sizes: dict[Bucket, int], step: int) -> None:
    """Move a slot one level up (step 1) or down (-1), keeping both buckets dense: the
    source bucket's last slot fills the hole. The caller holds the study's bucket locks."""
    dst = (slot.cell, slot.level + step)
    _bucket_ensure(study_id, dst, sizes)
    move = (f"UPDATE {_SLOT} SET level = %s, pos = %s WHERE id = %s", [dst[1], sizes[dst], slot.pk])
    execute_batch([move, *_hole_fill(study_id, (slot.cell, slot.level), slot.pos, sizes, dst)])


def _bucket_ensure(study_id: int, bucket: Bucket, sizes: dict[Bucket, int]) -> None:
    if bucket not in sizes:
        # Only above the top level built (k raised, or legacy data past k).
        SlotBucket.objects.create(study_id=study_id, cell=bucket[0], level=bucket[1], size=0)
        sizes[bucket] = 0


def _hole_fill(
    study_id: int, src: Bucket, hole: int, sizes: dict[Bucket, int], dst: Bucket
) -> list[Statement]:
    # A slot leaves position ``hole`` of src for the end of dst: src's last slot takes
    # the hole, and both sizes are written.
    statements = []
    last = sizes[src] - 1
    if hole != last:
        statements.append(
            (
                f"UPDATE {_SLOT} SET pos = %s "
                "WHERE study_id = %s AND cell = %s AND level = %s AND pos = %s",
                [hole, study_id, src[0], src[1], last],
            )
        )
    sizes[src] -= 1
    sizes[dst] += 1
    statements.append(
        (
            f"UPDATE {_BUCKET} SET size = CASE WHEN level = %s THEN %s ELSE %s END "
            "WHERE study_id = %s AND cell = %s AND level IN (%s, %s)",
            [src[1], sizes[src], sizes[dst], study_id, src[0], src[1], dst[1]],
        )
    )
    return statements


_TALLY_FIELDS = ("assigned", "labels", "y_sum", "y_sq_sum")


def tally_add_statement(study_id: int, stratum: str, cell: str, **deltas: float) -> Statement:
    """Add to a stratum's running counts for a cell, creating the row on first use: one
    upsert (ON CONFLICT, on PostgreSQL and SQLite alike)."""
    unknown = set(deltas) - set(_TALLY_FIELDS)
    if unknown:
        raise ValueError(f"CellTally has no counts named {sorted(unknown)}")
    values = [deltas.get(name, 0) for name in _TALLY_FIELDS]
    added = ", ".join(f"{name} = {_TALLY}.{name} + excluded.{name}" for name in _TALLY_FIELDS)
    sql = (
        f"INSERT INTO {_TALLY} (study_id, stratum, cell, {', '.join(_TALLY_FIELDS)}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) "
        f"ON CONFLICT (study_id, stratum, cell) DO UPDATE SET {added}"
    )
    return sql, [study_id, stratum, cell, *values]


def tally_add(study_id: int, stratum: str, cell: str, **deltas: float) -> None:
    execute_batch([tally_add_statement(study_id, stratum, cell, **deltas)])
