"""Reads for analysis: labels to fold or rebuild from, stored sums, covariates, estimates."""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db.models import Max, Min, Q

from analysis.estimators.sums import ClusterSums
from analysis.models import AnnotatorSums, Estimate, RefreshRun, RefreshState
from annotators.models import CovariateResponse
from collection.models import Enrollment, Label, Study
from collection.outcomes import label_outcome
from interventions.models import Intervention, Stimulus

# What the effect regression needs of a label, in this order.
LABEL_FIELDS = (
    "pk",
    "choice",
    "strength",
    "assignment__treated_on_left",
    "assignment__annotator_id",
    "assignment__stimulus__treatment",
)

# Weights. Every label weighs 1, not 1/propensity. The logged propensity is the per-draw
# probability of the exact stimulus, which includes 1/(stimuli still available in the
# cell) and so shrinks as the pool fills: weighting by it varied 10-33x within a cell and
# cost 15-25% variance. It is not what makes the estimate unbiased. Every design draws the
# stimulus uniformly among the available ones of its cell and caps each at k labels, so
# each stimulus of an intervention has the same inclusion probability, and the side is
# randomised with marginal probability 1/2 (Bernoulli, or permuted blocks): the plain
# label average is then unbiased for the effect averaged over the intervention's stimuli
# with position balanced. Which intervention a draw serves never enters one
# intervention's estimate. Propensities stay logged for audits and exports.
LABEL_WEIGHT = 1.0


def outcome_rule(study: Study) -> str:
    """The settings that define y, as stored beside the sums (a change rebuilds them)."""
    return f"ties={study.ties};strength={study.strength}"


def _y(study: Study, choice: str, strength: int, treated_on_left: bool) -> float | None:
    return label_outcome(
        choice=choice,
        strength=strength,
        treated_on_left=treated_on_left,
        ties=study.ties,
        strength_mode=study.strength,
    )


@dataclass(frozen=True)
class LabelArrays:
    label_id: np.ndarray
    outcome: np.ndarray
    treated_on_left: np.ndarray
    weight: np.ndarray
    annotator: np.ndarray
    treatments: list[dict[str, int]]


def label_arrays(*, study: Study) -> LabelArrays:
    """Current labels of a study (a superseded label is replaced by its correction),
    attention checks and labels the study's tie setting leaves out excluded, in label-id
    order, with y under the study's settings (``collection.outcomes``)."""
    rows = Label.objects.filter(
        study_id=study.pk,
        superseded_by__isnull=True,
        assignment__stimulus__is_attention_check=False,
    ).order_by("pk")
    kept = [
        (r[0], y, r[3], r[4], r[5])
        for r in rows.values_list(*LABEL_FIELDS)
        if (y := _y(study, r[1], r[2], r[3])) is not None
    ]
    return LabelArrays(
        label_id=np.array([r[0] for r in kept], dtype=np.int64),
        outcome=np.array([r[1] for r in kept], dtype=float),
        treated_on_left=np.array([r[2] for r in kept], dtype=bool),
        weight=np.full(len(kept), LABEL_WEIGHT),
        annotator=np.array([r[3] for r in kept], dtype=np.int64),
        treatments=[r[4] for r in kept],
    )


@dataclass(frozen=True)
class NewLabel:
    pk: int
    outcome: float | None  # None: left out under the study's settings (a tie, excluded)
    treated_on_left: bool
    annotator_id: int
    treatment: dict[str, int]
    is_attention_check: bool
    supersedes_id: int | None
    supersedes_outcome: float | None
    weight: float = LABEL_WEIGHT


def labels_to_fold(*, study: Study, after: int, also: list[int]) -> list[NewLabel]:
    """Every label of the study past the watermark ``after`` plus the listed late ids,
    superseded or not (a correction is folded as its own row minus the one it replaces),
    in id order, with y under the study's settings."""
    rows = (
        Label.objects.filter(Q(pk__gt=after) | Q(pk__in=also), study_id=study.pk)
        .order_by("pk")
        .values_list(
            *LABEL_FIELDS,
            "assignment__stimulus__is_attention_check",
            "supersedes_id",
            "supersedes__choice",
            "supersedes__strength",
        )
    )
    return [
        NewLabel(
            pk=pk,
            outcome=_y(study, choice, strength, left),
            treated_on_left=left,
            annotator_id=annotator_id,
            treatment=treatment,
            is_attention_check=check,
            supersedes_id=supersedes_id,
            supersedes_outcome=(
                None if old_choice is None else _y(study, old_choice, old_strength, left)
            ),
        )
        for (
            pk,
            choice,
            strength,
            left,
            annotator_id,
            treatment,
            check,
            supersedes_id,
            old_choice,
            old_strength,
        ) in rows
    ]


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


@dataclass(frozen=True)
class LabelRecord:
    """One current label as the agreement, quality and recruitment figures read it."""

    annotator_id: int
    stimulus_id: int
    treatment: dict[str, int]
    outcome: float  # 1 treated preferred, 0 control, 0.5 tie (Label.outcome)
    is_check: bool
    check_passed: bool | None  # attention checks only: answered as the stimulus asks
    created_at: datetime


def label_records(*, study: Study) -> list[LabelRecord]:
    """Current labels (corrections replace what they correct) of the study, oldest first."""
    rows = (
        Label.objects.filter(study_id=study.pk, superseded_by__isnull=True)
        .order_by("pk")
        .values_list(
            "assignment__annotator_id",
            "assignment__stimulus_id",
            "assignment__stimulus__treatment",
            "outcome",
            "assignment__stimulus__is_attention_check",
            "assignment__stimulus__attention_answer",
            "choice",
            "assignment__treated_on_left",
            "created_at",
        )
    )
    return [
        LabelRecord(
            annotator_id=annotator,
            stimulus_id=stimulus,
            treatment=treatment,
            outcome=outcome,
            is_check=check,
            # As collection.selectors.attention_passed counts it: a tie never passes.
            check_passed=(
                (choice == "left") == (left == (answer == Stimulus.Side.TREATED))
                and choice != "tie"
                if check
                else None
            ),
            created_at=created,
        )
        for annotator, stimulus, treatment, outcome, check, answer, choice, left, created in rows
    ]


def enrollment_times(*, study: Study) -> list[datetime]:
    """When each consenting annotator joined the study, oldest first."""
    times = (
        Enrollment.objects.filter(study_id=study.pk, consented_at__isnull=False)
        .order_by("consented_at")
        .values_list("consented_at", flat=True)
    )
    return [t for t in times if t is not None]


def results_watermark(*, study: Study) -> int:
    """Changes whenever a refresh stores new estimates: the newest estimate row's id."""
    return Estimate.objects.filter(study=study).aggregate(last=Max("pk"))["last"] or 0
