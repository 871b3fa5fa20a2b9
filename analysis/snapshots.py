"""Estimate snapshots computed from the stored per-annotator sums (no label is read).

Per intervention: the attribute effect and the position bias on the whole sample, and the
attribute effect in each subgroup of annotators defined by a choice question of the
study's covariate schema. Every attribute-effect row estimates one estimand, the study's
``estimand`` setting (label-weighted or annotator-weighted), and its point, interval,
p-value, confidence sequence and always-valid p-value all refer to it.

Honest small samples: a row from fewer annotators than the study's ``min_annotators``
shows its point estimate only (no interval, p-value or sequence; ``note`` says why), and
a row whose standard error vanishes is "not estimable", never p = 0.

Multiple testing, with families fixed by the design, not by the data: the whole-sample
effects of the study's interventions form one family; each (intervention, question)
forms one family across all the question's levels. A member with no p-value (too few
annotators, not estimable, nobody in the level) counts as p = 1, so the family's size is
the number of its members in the design. Holm controls the family-wise error rate, BH
the false discovery rate.
"""

import numpy as np

from analysis.estimators.confseq import asymptotic_cs, asymptotic_rho
from analysis.estimators.effects import Effect
from analysis.estimators.multiple import adjust_pvalues
from analysis.estimators.sums import (
    ClusterSums,
    RowEffect,
    Weighting,
    attribute_effect_from_sums,
    row_effect,
)
from analysis.models import Estimate, RefreshRun, RefreshState
from analysis.selectors import covariate_answers, study_interventions, sums_by_intervention
from analysis.stopping import StoppingRule, stopping_rule_parse
from collection.models import Study

ESTIMATORS = {"label": "hajek-wls/cr2-bm", "annotator": "annotator-mean/t"}
POSITION_ESTIMATOR = "hajek-wls/cr1"


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def identified(sums: ClusterSums) -> bool:
    """Two annotators and both sides seen: the regression and its CR1 variance exist."""
    if len(sums.n) < 2:
        return False
    total = sums.xtwx.sum(0)
    return bool(total[0, 0] - abs(total[0, 1]) > 1e-9 * total[0, 0])


def _effect_row(row: RowEffect, *, minimum: int, plan: tuple[float, float], **fields) -> Estimate:
    effect = row.effect
    shown = row.n_clusters >= minimum and effect.estimable
    if row.n_clusters < minimum:
        note = f"{row.n_clusters} annotators, fewer than the study's minimum of {minimum}"
    elif not effect.estimable:
        note = "not estimable: no variation between annotators"
    else:
        note = ""
    alpha, rho = plan
    cs = (
        asymptotic_cs(
            point=effect.point, se=row.monitoring_se, t=row.n_clusters, alpha=alpha, rho=rho
        )
        if shown
        else None
    )
    return Estimate(
        estimator=ESTIMATORS[row.weighting],
        weighting=row.weighting,
        n_labels=row.n,
        n_annotators=row.n_clusters,
        point=effect.point,
        se=_finite(effect.se) if shown else None,
        ci_low=_finite(effect.ci_low) if shown else None,
        ci_high=_finite(effect.ci_high) if shown else None,
        p_value=_finite(effect.p_value) if shown else None,
        df=_finite(effect.df) if shown else None,
        cs_low=cs.low if cs else None,
        cs_high=cs.high if cs else None,
        p_always_valid=cs.p_value if cs else None,
        note=note,
        **fields,
    )


def _position_row(sums: ClusterSums, **fields) -> Estimate:
    fit = attribute_effect_from_sums(sums)
    effect: Effect = fit.position_bias
    return Estimate(
        estimator=POSITION_ESTIMATOR,
        weighting=Estimate.Weighting.LABEL,
        n_labels=fit.n,
        n_annotators=fit.n_clusters,
        point=effect.point,
        se=_finite(effect.se),
        ci_low=_finite(effect.ci_low),
        ci_high=_finite(effect.ci_high),
        p_value=_finite(effect.p_value),
        estimand=Estimate.Estimand.POSITION_BIAS,
        **fields,
    )


def _adjust(rows: list[Estimate], family_size: int) -> None:
    """Holm and BH within one family of ``family_size`` members (rows missing from it, or
    without a p-value, count as p = 1)."""
    p = np.ones(max(family_size, len(rows)))
    for k, row in enumerate(rows):
        if row.p_value is not None:
            p[k] = row.p_value
    holm, bh = adjust_pvalues(p, method="holm"), adjust_pvalues(p, method="bh")
    for k, row in enumerate(rows):
        if row.p_value is not None:
            row.p_holm, row.p_bh = _finite(holm[k]), _finite(bh[k])


def _choice_questions(study: Study) -> list[tuple[str, list[str]]]:
    questions = study.covariate_schema.questions if study.covariate_schema else []
    return [
        (q["key"], [str(c) for c in q.get("choices", [])])
        for q in questions
        if q.get("type") == "choice"
    ]


def monitoring_plan(*, study: Study, rule: StoppingRule) -> tuple[float, float]:
    """(alpha, rho) of the study's confidence sequences: fixed at its first refresh, before
    any estimate exists, from the stopping rule then in force; later edits of the rule do
    not move them (a rho chosen after seeing data would void the guarantee)."""
    state, _ = RefreshState.objects.get_or_create(study=study)
    if state.cs_rho is None or state.cs_alpha is None:
        state.cs_alpha = rule.alpha
        state.cs_rho = asymptotic_rho(t_planned=rule.planned_annotators, alpha=rule.alpha)
        state.save(update_fields=["cs_alpha", "cs_rho"])
    return state.cs_alpha, state.cs_rho


def snapshots_compute(
    *, study: Study, plan: tuple[float, float], watermark: int, run: RefreshRun | None = None
) -> list[Estimate]:
    """Unsaved snapshot rows for every identified intervention of the study."""
    stored = sums_by_intervention(study_id=study.pk)
    answers = covariate_answers(study=study)
    questions = _choice_questions(study)
    weighting: Weighting = "annotator" if study.estimand == Study.Estimand.ANNOTATOR else "label"
    minimum = study.min_annotators
    interventions = study_interventions(study=study)
    rows: list[Estimate] = []
    whole: list[Estimate] = []
    for intervention in interventions:
        if intervention.pk not in stored:
            continue
        ids, sums = stored[intervention.pk]
        if not identified(sums):
            continue
        common = {"study": study, "intervention": intervention, "watermark": watermark, "run": run}
        main = _effect_row(
            row_effect(sums, weighting=weighting),
            minimum=minimum,
            plan=plan,
            estimand=Estimate.Estimand.AMCE,
            **common,
        )
        whole.append(main)
        rows += [main, _position_row(sums, **common)]
        for key, levels in questions:
            family = []
            for value in levels:
                mask = np.array([str(answers.get(int(a), {}).get(key)) == value for a in ids])
                part = sums.subset(mask)
                if identified(part):
                    family.append(
                        _effect_row(
                            row_effect(part, weighting=weighting),
                            minimum=minimum,
                            plan=plan,
                            estimand=Estimate.Estimand.AMCE,
                            subgroup=f"{key}={value}",
                            **common,
                        )
                    )
            _adjust(family, len(levels))
            rows += family
    _adjust(whole, len(interventions))
    return rows


def snapshots_store(*, study: Study, run: RefreshRun) -> list[Estimate]:
    try:
        rule = stopping_rule_parse(study=study)
    except ValueError:
        rule = StoppingRule()  # the stopping check logs the bad rule; estimates go on
    plan = monitoring_plan(study=study, rule=rule)
    rows = snapshots_compute(study=study, plan=plan, watermark=run.watermark_to, run=run)
    return Estimate.objects.bulk_create(rows)
