"""Reads for analysis: labels to fold or rebuild from, stored sums, covariates, estimates."""

from dataclasses import dataclass

import numpy as np
from django.db.models import Max, Min, Q

from analysis.estimators.sums import ClusterSums
from analysis.models import AnnotatorSums, Estimate, RefreshRun, RefreshState
from annotators.models import CovariateResponse
from collection.models import Label, Study
from interventions.models import Intervention

# What the effect regression needs of a label, in this order.
LABEL_FIELDS = (
    "pk",
    "outcome",
    "assignment__treated_on_left",
    "assignment__propensity",
    "assignment__annotator_id",
    "assignment__stimulus__treatment",
)


@dataclass(frozen=True)
class LabelArrays:
    label_id: np.ndarray
    outcome: np.ndarray
    treated_on_left: np.ndarray
    propensity: np.ndarray
    annotator: np.ndarray
    treatments: list[dict[str, int]]


def label_arrays(*, study_id: int) -> LabelArrays:
    """Current labels of a study (a superseded label is replaced by its correction),
    attention checks excluded, in label-id order."""
    rows = list(
        Label.objects.filter(
            study_id=study_id,
            superseded_by__isnull=True,
            assignment__stimulus__is_attention_check=False,
        )
        .order_by("pk")
        .values_list(*LABEL_FIELDS)
    )
    return LabelArrays(
        label_id=np.array([r[0] for r in rows], dtype=np.int64),
        outcome=np.array([r[1] for r in rows], dtype=float),
        treated_on_left=np.array([r[2] for r in rows], dtype=bool),
        propensity=np.array([r[3] for r in rows], dtype=float),
        annotator=np.array([r[4] for r in rows], dtype=np.int64),
        treatments=[r[5] for r in rows],
    )


@dataclass(frozen=True)
class NewLabel:
    pk: int
    outcome: float
    treated_on_left: bool
    propensity: float
    annotator_id: int
    treatment: dict[str, int]
    is_attention_check: bool
    supersedes_id: int | None
    supersedes_outcome: float | None


def labels_to_fold(*, study_id: int, after: int, also: list[int]) -> list[NewLabel]:
    """Every label of the study past the watermark ``after`` plus the listed late ids,
    superseded or not (a correction is folded as its own row minus the one it replaces),
    in id order."""
    rows = (
        Label.objects.filter(Q(pk__gt=after) | Q(pk__in=also), study_id=study_id)
        .order_by("pk")
        .values_list(
            *LABEL_FIELDS,
            "assignment__stimulus__is_attention_check",
            "supersedes_id",
            "supersedes__outcome",
        )
    )
    return [NewLabel(*row) for row in rows]


def label_ids_present(*, low: int, high: int) -> set[int]:
    """Ids in (low, high] that exist now, in any study (ids are one global sequence)."""
    return set(Label.objects.filter(pk__gt=low, pk__lte=high).values_list("pk", flat=True))


def label_ids_existing(*, ids: list[int]) -> dict[int, int]:
    """Which of these ids exist now, mapped to their study."""
    return dict(Label.objects.filter(pk__in=ids).values_list("pk", "study_id"))


def labels_uncovered(*, state: RefreshState) -> bool:
    """True if a committed label of the study is not yet in its sums."""
    pending = [entry[0] for entry in state.pending_ids]
    return Label.objects.filter(
        Q(pk__gt=state.watermark) | Q(pk__in=pending), study_id=state.study_id
    ).exists()


def studies_with_pending_labels() -> list[int]:
    """Studies one of whose pending ids (a label that had not committed when a refresh
    moved the watermark past it) has committed since: their sums miss that label."""
    studies = []
    for study_id, pending in RefreshState.objects.values_list("study_id", "pending_ids"):
        ids = [entry[0] for entry in pending or []]
        if ids and Label.objects.filter(study_id=study_id, pk__in=ids).exists():
            studies.append(study_id)
    return studies


def label_count(*, study_id: int) -> int:
    """Labels of the study, corrections not counted (as a label budget counts them)."""
    return Label.objects.filter(study_id=study_id, supersedes__isnull=True).count()


def label_range(*, study_id: int) -> tuple[int, int]:
    """Smallest and largest label id of the study, (0, 0) without labels."""
    r = Label.objects.filter(study_id=study_id).aggregate(low=Min("pk"), high=Max("pk"))
    return r["low"] or 0, r["high"] or 0


def study_interventions(*, study: Study) -> list[Intervention]:
    return list(
        Intervention.objects.filter(stimulus_sets__studies=study).distinct().order_by("name")
    )


def sums_by_intervention(*, study_id: int) -> dict[int, tuple[np.ndarray, ClusterSums]]:
    """Stored sums per intervention id: (annotator ids ascending, ClusterSums)."""
    rows = (
        AnnotatorSums.objects.filter(study_id=study_id, n__gt=0)
        .order_by("intervention_id", "annotator_id")
        .values_list("intervention_id", "annotator_id", "n", "sum_w", "sum_ws", "sum_wy", "sum_wsy")
    )
    grouped: dict[int, list[tuple]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row[1:])
    out = {}
    for intervention_id, items in grouped.items():
        a = np.array(items, dtype=float)
        w, ws = a[:, 2], a[:, 3]
        xtwx = np.stack([np.stack([w, ws], -1), np.stack([ws, w], -1)], 1)
        sums = ClusterSums(xtwx=xtwx, xtwy=a[:, 4:6].copy(), n=a[:, 1].copy())
        out[intervention_id] = (a[:, 0].astype(np.int64), sums)
    return out


def covariate_answers(*, study: Study) -> dict[int, dict]:
    """Annotator id -> answers to the study's covariate schema (annotators of this study)."""
    if study.covariate_schema_id is None:
        return {}
    return dict(
        CovariateResponse.objects.filter(
            schema_id=study.covariate_schema_id, annotator__enrollments__study=study
        ).values_list("annotator_id", "answers")
    )


def estimates_latest(*, study: Study, subgroups: bool = False) -> list[Estimate]:
    """The newest snapshot of each (intervention, estimand, subgroup); whole-sample rows
    only unless ``subgroups``."""
    rows = Estimate.objects.filter(study=study)
    if not subgroups:
        rows = rows.filter(subgroup="all")
    newest = rows.values("intervention_id", "estimand", "subgroup").annotate(last=Max("pk"))
    latest = Estimate.objects.filter(pk__in=[r["last"] for r in newest]).select_related(
        "intervention"
    )
    return sorted(latest, key=lambda e: (e.intervention.name, e.estimand, e.subgroup))


def estimates_history(*, study: Study, estimand: str = "amce") -> list[Estimate]:
    """Every whole-sample snapshot of one estimand, oldest first (the convergence plot)."""
    return list(
        Estimate.objects.filter(study=study, estimand=estimand, subgroup="all")
        .select_related("intervention")
        .order_by("pk")
    )


def refresh_runs(*, study: Study, limit: int = 50) -> list[RefreshRun]:
    return list(RefreshRun.objects.filter(study=study).order_by("-started_at")[:limit])
