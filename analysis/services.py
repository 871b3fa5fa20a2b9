"""Writes for analysis: recompute a study's estimates and store a snapshot."""

import numpy as np
from django.db import transaction

from analysis.estimators.effects import AttributeEffect, Effect, attribute_effect
from analysis.models import Estimate
from analysis.selectors import label_arrays
from collection.models import Study
from interventions.models import Intervention

ESTIMATOR = "hajek-wls/cr1"


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _row(
    study: Study,
    intervention: Intervention,
    estimand: str,
    fit: AttributeEffect,
    effect: Effect,
    watermark: int,
) -> Estimate:
    return Estimate(
        study=study,
        intervention=intervention,
        estimand=estimand,
        estimator=ESTIMATOR,
        n_labels=fit.n,
        n_annotators=fit.n_clusters,
        point=effect.point,
        se=_finite(effect.se),
        ci_low=_finite(effect.ci_low),
        ci_high=_finite(effect.ci_high),
        p_value=_finite(effect.p_value),
        watermark=watermark,
    )


def study_estimates_refresh(*, study_id: int) -> list[Estimate]:
    """Recompute every intervention's effect from the study's current labels and store
    a snapshot, unless the newest snapshot already covers the newest label.

    Interventions with labels from fewer than two annotators get no snapshot yet: a
    cluster-robust variance needs two clusters.
    """
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return []
    data = label_arrays(study_id=study_id)
    if not data.label_id.size:
        return []
    watermark = int(data.label_id.max())
    if Estimate.objects.filter(study=study, watermark__gte=watermark).exists():
        return []
    interventions = (
        Intervention.objects.filter(stimulus_sets__studies=study).distinct().order_by("name")
    )
    rows: list[Estimate] = []
    for intervention in interventions:
        mask = np.array([t.get(intervention.name) == 1 for t in data.treatments], dtype=bool)
        # Both positions and two annotators are needed before the model is identified.
        sides = data.treated_on_left[mask]
        if len(np.unique(data.annotator[mask])) < 2 or sides.all() or not sides.any():
            continue
        fit = attribute_effect(
            outcome=data.outcome[mask],
            treated_on_left=data.treated_on_left[mask],
            propensity=data.propensity[mask],
            annotator=data.annotator[mask],
        )
        rows.append(_row(study, intervention, Estimate.Estimand.AMCE, fit, fit.amce, watermark))
        rows.append(
            _row(
                study,
                intervention,
                Estimate.Estimand.POSITION_BIAS,
                fit,
                fit.position_bias,
                watermark,
            )
        )
    with transaction.atomic():
        return Estimate.objects.bulk_create(rows)
