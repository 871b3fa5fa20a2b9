"""Estimate snapshots computed from the stored per-annotator sums (no label is read).

Per intervention: the attribute effect (with its confidence sequence) and the position
bias on the whole sample, and the attribute effect in each subgroup of annotators defined
by a choice question of the study's covariate schema, with Holm and Benjamini-Hochberg
adjusted p-values across that intervention's subgroups (one family per intervention).
"""

import numpy as np

from analysis.estimators.confseq import annotator_means, normal_mixture_cs, rho_for_planned
from analysis.estimators.effects import AttributeEffect, Effect
from analysis.estimators.multiple import adjust_pvalues
from analysis.estimators.sums import ClusterSums, attribute_effect_from_sums
from analysis.models import Estimate, RefreshRun
from analysis.selectors import covariate_answers, study_interventions, sums_by_intervention
from analysis.stopping import StoppingRule, stopping_rule_parse
from collection.models import Study

ESTIMATOR = "hajek-wls/cr1"


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def identified(sums: ClusterSums) -> bool:
    """Two annotators and both sides seen: the regression and its CR1 variance exist."""
    if len(sums.n) < 2:
        return False
    total = sums.xtwx.sum(0)
    return bool(total[0, 0] - abs(total[0, 1]) > 1e-9 * total[0, 0])


def _row(fit: AttributeEffect, effect: Effect, **fields) -> Estimate:
    return Estimate(
        estimator=ESTIMATOR,
        n_labels=fit.n,
        n_annotators=fit.n_clusters,
        point=effect.point,
        se=_finite(effect.se),
        ci_low=_finite(effect.ci_low),
        ci_high=_finite(effect.ci_high),
        p_value=_finite(effect.p_value),
        **fields,
    )


def _subgroups(schema_questions: list[dict], answers: dict[int, dict]) -> list[tuple[str, str]]:
    pairs = []
    for question in schema_questions:
        if question.get("type") == "choice":
            pairs += [(question["key"], str(choice)) for choice in question.get("choices", [])]
    return [(k, v) for k, v in pairs if any(str(a.get(k)) == v for a in answers.values())]


def _subgroup_rows(
    ids: np.ndarray, sums: ClusterSums, subgroups: list, answers: dict, **fields
) -> list[Estimate]:
    rows = []
    for key, value in subgroups:
        mask = np.array([str(answers.get(int(a), {}).get(key)) == value for a in ids])
        part = sums.subset(mask)
        if identified(part):
            fit = attribute_effect_from_sums(part)
            rows.append(_row(fit, fit.amce, subgroup=f"{key}={value}", **fields))
    p = np.array([np.nan if r.p_value is None else r.p_value for r in rows])
    for row, holm, bh in zip(
        rows, adjust_pvalues(p, method="holm"), adjust_pvalues(p, method="bh"), strict=True
    ):
        row.p_holm, row.p_bh = _finite(holm), _finite(bh)
    return rows


def snapshots_compute(
    *, study: Study, rule: StoppingRule, watermark: int, run: RefreshRun | None = None
) -> list[Estimate]:
    """Unsaved snapshot rows for every identified intervention of the study."""
    stored = sums_by_intervention(study_id=study.pk)
    answers = covariate_answers(study=study)
    questions = study.covariate_schema.questions if study.covariate_schema else []
    subgroups = _subgroups(questions, answers)
    rho = rho_for_planned(n_planned=rule.planned_annotators, alpha=rule.alpha)
    rows: list[Estimate] = []
    for intervention in study_interventions(study=study):
        if intervention.pk not in stored:
            continue
        ids, sums = stored[intervention.pk]
        if not identified(sums):
            continue
        fit = attribute_effect_from_sums(sums)
        cs = normal_mixture_cs(values=annotator_means(sums), alpha=rule.alpha, rho=rho, null=0.5)
        common = {"study": study, "intervention": intervention, "watermark": watermark, "run": run}
        rows.append(
            _row(
                fit,
                fit.amce,
                estimand=Estimate.Estimand.AMCE,
                cs_low=cs.low - 0.5,
                cs_high=cs.high - 0.5,
                p_always_valid=cs.p_value,
                **common,
            )
        )
        rows.append(
            _row(fit, fit.position_bias, estimand=Estimate.Estimand.POSITION_BIAS, **common)
        )
        rows += _subgroup_rows(
            ids, sums, subgroups, answers, estimand=Estimate.Estimand.AMCE, **common
        )
    return rows


def snapshots_store(*, study: Study, run: RefreshRun) -> list[Estimate]:
    try:
        rule = stopping_rule_parse(study=study)
    except ValueError:
        rule = StoppingRule()  # the stopping check logs the bad rule; estimates go on
    rows = snapshots_compute(study=study, rule=rule, watermark=run.watermark_to, run=run)
    return Estimate.objects.bulk_create(rows)
