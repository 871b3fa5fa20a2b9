"""Tables the results page adds beside the stored snapshots: does the effect differ by
questionnaire answer (heterogeneity), and do interventions applied together add up
(interactions). Both are computed on view from the stored per-annotator sums or the
current labels, not stored: they are tests of the whole sample at this moment.

Bradley-Terry strengths are not shown: they rank *models* against each other, and in a
study of interventions both sides of a pair come from the same model (the treated text
is derived from the control), so there is no model comparison to fit.
"""

from dataclasses import dataclass

import numpy as np

from analysis.estimators.factorial import factorial_effects
from analysis.estimators.heterogeneity import heterogeneity_wald
from analysis.selectors import (
    covariate_answers,
    label_arrays,
    study_interventions,
    sums_by_intervention,
)
from analysis.snapshots import identified
from collection.models import Study


@dataclass(frozen=True)
class HeterogeneityRow:
    intervention: str
    question: str
    statistic: float
    df: int
    p_value: float
    annotators: int

    @property
    def sentence(self) -> str:
        if self.p_value < 0.05:
            return (
                f"The effect differs between answers to {self.question} (p = {self.p_value:.3f})."
            )
        return (
            f"No clear sign that the effect differs between answers to {self.question} "
            f"(p = {self.p_value:.2f})."
        )


def heterogeneity_rows(*, study: Study) -> list[HeterogeneityRow]:
    """Per intervention and choice question: the cluster-robust Wald test that the effect
    is the same for every answer (answers as indicators, the first answered level the
    reference), over the annotators who answered it."""
    questions = study.covariate_schema.questions if study.covariate_schema else []
    choice = [q["key"] for q in questions if q.get("type") == "choice"]
    if not choice:
        return []
    answers = covariate_answers(study=study)
    stored = sums_by_intervention(study_id=study.pk)
    rows = []
    for intervention in study_interventions(study=study):
        if intervention.pk not in stored:
            continue
        ids, sums = stored[intervention.pk]
        for key in choice:
            given = np.array([str(answers.get(int(a), {}).get(key, "")) for a in ids])
            mask = given != ""
            levels = sorted(set(given[mask]))
            part = sums.subset(mask)
            if len(levels) < 2 or not identified(part) or len(part.n) <= len(levels):
                continue
            z = np.column_stack([given[mask] == level for level in levels[1:]]).astype(float)
            test = heterogeneity_wald(sums=part, covariates=z)
            if np.isfinite(test.p_value):
                rows.append(
                    HeterogeneityRow(
                        intervention.name, key, test.statistic, test.df, test.p_value, len(part.n)
                    )
                )
    return rows


@dataclass(frozen=True)
class InteractionRow:
    term: str  # "a:b"
    point: float
    ci_low: float
    ci_high: float
    p_value: float


def interaction_rows(*, study: Study) -> list[InteractionRow]:
    """Two-way interactions when some stimulus applies two interventions at once (empty
    otherwise: a study of one intervention per pair has nothing to interact)."""
    data = label_arrays(study=study)
    names = sorted({n for t in data.treatments for n, on in t.items() if on == 1})
    if len(names) < 2 or not any(sum(t.values()) >= 2 for t in data.treatments):
        return []
    fit = factorial_effects(
        outcome=data.outcome,
        treatment=np.array([[t.get(n, 0) for n in names] for t in data.treatments]),
        treated_on_left=data.treated_on_left,
        propensity=1.0 / data.weight,
        annotator=data.annotator,
        names=names,
    )
    return [
        InteractionRow(name, e.point, e.ci_low, e.ci_high, e.p_value)
        for name, e in zip(fit.names, fit.effects, strict=True)
        if ":" in name and np.isfinite(e.se)
    ]
