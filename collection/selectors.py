"""Reads for a running study."""

import math
from dataclasses import dataclass

from django.db import connection
from django.db.models import Sum

from annotators.models import CovariateResponse
from collection.models import Assignment, CellTally, Enrollment, StimulusSlot, Study


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 100


def enrollment_progress(*, enrollment: Enrollment) -> Progress:
    return Progress(done=enrollment.labels_done, total=enrollment.study.labels_per_annotator)


def seen_slots(*, study: Study, annotator_id: int) -> dict[tuple[str, int], list[int]]:
    """Bucket positions, per (cell, level), of the stimuli this annotator has already
    been assigned (in any study: an annotator never sees a stimulus twice). Small: it
    reads the annotator's own assignments, never the pool."""
    # Plain SQL: the engine reads this under the study's bucket locks, where ORM query
    # compilation would lengthen every other draw's wait. (annotator, stimulus) is
    # unique, so the join yields each slot once.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.cell, s.level, s.pos FROM {StimulusSlot._meta.db_table} s "
            f"JOIN {Assignment._meta.db_table} a ON a.stimulus_id = s.stimulus_id "
            "WHERE s.study_id = %s AND a.annotator_id = %s",
            [study.pk, annotator_id],
        )
        rows = cursor.fetchall()
    out: dict[tuple[str, int], list[int]] = {}
    for cell, level, pos in rows:
        out.setdefault((cell, level), []).append(pos)
    return out


def annotator_stratum(*, study: Study, annotator_id: int) -> str:
    """The annotator's randomisation stratum: the study's stratifying covariates
    (``design_params['strata']``) and their answers, as 'key=value;key=value'."""
    keys = study.design_params.get("strata") or []
    if not keys or study.covariate_schema_id is None:
        return ""
    answers = (
        CovariateResponse.objects.filter(
            annotator_id=annotator_id, schema_id=study.covariate_schema_id
        )
        .values_list("answers", flat=True)
        .first()
    ) or {}
    return ";".join(f"{key}={answers.get(key, '')}" for key in keys)[:200]


def cell_outcome_moments(*, study: Study, cells: list[str]) -> tuple[list[int], list[float]]:
    """Labels and outcome standard deviation per cell (all strata), from the running
    tallies the label service keeps: the adaptive design's input."""
    rows = (
        CellTally.objects.filter(study=study, cell__in=cells)
        .values("cell")
        .annotate(n=Sum("labels"), s=Sum("y_sum"), q=Sum("y_sq_sum"))
    )
    by_cell = {r["cell"]: r for r in rows}
    n_out, sd_out = [], []
    for cell in cells:
        r = by_cell.get(cell) or {"n": 0, "s": 0.0, "q": 0.0}
        n = int(r["n"] or 0)
        mean = (r["s"] or 0.0) / n if n else 0.0
        var = ((r["q"] or 0.0) - n * mean * mean) / (n - 1) if n >= 2 else 0.0
        n_out.append(n)
        sd_out.append(math.sqrt(max(var, 0.0)))
    return n_out, sd_out


def assignment_for_display(*, assignment_id: int) -> Assignment:
    """An assignment with its prompt and both responses, in one query, for rendering."""
    return Assignment.objects.select_related(
        "stimulus__prompt", "stimulus__control", "stimulus__treated"
    ).get(pk=assignment_id)
