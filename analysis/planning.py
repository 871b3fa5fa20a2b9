"""The study page's planning panel: how many annotators and labels a study needs, with the
design effect of correlated labels explained, and the ICC taken from a pilot's labels."""

from dataclasses import dataclass

import numpy as np

from analysis.estimators.planning import design_effect, icc_oneway, labels_needed
from analysis.selectors import label_arrays, study_interventions
from collection.models import Study

# Fewer annotators than this give an ICC too noisy to plan with.
PILOT_MIN_ANNOTATORS = 5


@dataclass(frozen=True)
class Pilot:
    study: Study
    icc: float
    labels: int
    annotators: int


@dataclass(frozen=True)
class PlanView:
    effect: float
    alpha: float
    power: float
    labels_per_annotator: int
    icc: float
    interventions: int
    per_intervention: float  # one annotator's labels on one intervention
    design_effect: float
    labels_per_intervention: int
    labels_total: int
    annotators_total: int
    labels_so_far: int

    @property
    def sentence(self) -> str:
        m, icc, deff = self.per_intervention, self.icc, self.design_effect
        if m <= 1 or icc == 0:
            return f"Labels count as independent ones (design effect {deff:.2f}): " + (
                "one label per annotator and intervention." if m <= 1 else "the ICC is 0."
            )
        independent = m / deff
        return (
            f"Each annotator gives each intervention about {m:.1f} labels, which count as "
            f"{independent:.1f} independent ones because one person's choices correlate "
            f"(ICC {icc:.2f}): design effect 1 + ({m:.1f} - 1) x {icc:.2f} = {deff:.2f}, so "
            f"each intervention needs {deff:.2f} times the labels of independent ones."
        )


def pilot_icc(*, study: Study) -> Pilot | None:
    """The ICC of a study's labels within annotators, if it has enough annotators."""
    arrays = label_arrays(study=study)
    annotators = len(np.unique(arrays.annotator))
    if annotators < PILOT_MIN_ANNOTATORS:
        return None
    icc = icc_oneway(outcome=arrays.outcome, annotator=arrays.annotator)
    if np.isnan(icc):
        return None
    return Pilot(study=study, icc=icc, labels=len(arrays.outcome), annotators=annotators)


def plan_study(
    *,
    study: Study,
    effect: float,
    alpha: float,
    power: float,
    labels_per_annotator: int,
    icc: float,
) -> PlanView:
    """Labels for each intervention's effect to be detected with ``power`` (two-sided
    test at ``alpha``, the binary outcome's largest SD 0.5), and labels and annotators for
    all the study's interventions, each annotator's ``labels_per_annotator`` labels spread
    evenly over them (so each intervention sees about m / K of one person's labels)."""
    interventions = max(1, len(study_interventions(study=study)))
    per_intervention = max(1.0, labels_per_annotator / interventions)
    per = labels_needed(
        effect=effect,
        target_power=power,
        alpha=alpha,
        labels_per_annotator=per_intervention,
        icc=icc,
    )
    total = per.labels * interventions
    return PlanView(
        effect=effect,
        alpha=alpha,
        power=power,
        labels_per_annotator=labels_per_annotator,
        icc=icc,
        interventions=interventions,
        per_intervention=per_intervention,
        design_effect=design_effect(labels_per_annotator=per_intervention, icc=icc),
        labels_per_intervention=per.labels,
        labels_total=total,
        annotators_total=int(np.ceil(total / labels_per_annotator - 1e-9)),
        labels_so_far=len(label_arrays(study=study).outcome),
    )
