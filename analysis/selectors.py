"""Reads for analysis: the labels an estimate covers, and the latest estimates."""

from dataclasses import dataclass

import numpy as np

from analysis.models import Estimate
from collection.models import Label, Study


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
        .values_list(
            "pk",
            "outcome",
            "assignment__treated_on_left",
            "assignment__propensity",
            "assignment__annotator_id",
            "assignment__stimulus__treatment",
        )
    )
    return LabelArrays(
        label_id=np.array([r[0] for r in rows], dtype=np.int64),
        outcome=np.array([r[1] for r in rows], dtype=float),
        treated_on_left=np.array([r[2] for r in rows], dtype=bool),
        propensity=np.array([r[3] for r in rows], dtype=float),
        annotator=np.array([r[4] for r in rows], dtype=np.int64),
        treatments=[r[5] for r in rows],
    )


def estimates_latest(*, study: Study) -> list[Estimate]:
    """The newest snapshot of each (intervention, estimand, subgroup)."""
    latest: dict[tuple[int, str, str], Estimate] = {}
    for estimate in (
        Estimate.objects.filter(study=study)
        .select_related("intervention")
        .order_by("-computed_at", "-pk")
    ):
        latest.setdefault(
            (estimate.intervention_id, estimate.estimand, estimate.subgroup), estimate
        )
    return sorted(latest.values(), key=lambda e: (e.intervention.name, e.estimand))
