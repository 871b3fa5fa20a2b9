"""The attribute effect (AMCE) of one intervention, with position bias alongside."""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.estimators.wls import Vcov, WLSFit, wls_cluster

# A standard error this small relative to the outcome scale [0, 1] is no measured
# variation (e.g. two annotators who answered identically), not precision.
SE_FLOOR = 1e-10


@dataclass(frozen=True)
class Effect:
    point: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float = float("inf")  # degrees of freedom of the t reference (inf: normal)

    @property
    def estimable(self) -> bool:
        return bool(np.isfinite(self.se))


@dataclass(frozen=True)
class AttributeEffect:
    amce: Effect
    position_bias: Effect
    n: int
    n_clusters: int


def normal_effect(point: float, se: float, null: float, level: float) -> Effect:
    return t_effect(point, se, null, level, df=float("inf"))


def t_effect(point: float, se: float, null: float, level: float, *, df: float) -> Effect:
    """Interval and p-value from a t reference with ``df`` degrees of freedom (normal when
    df is infinite). A missing, zero or vanishing standard error (below SE_FLOOR) is not
    estimable: se, interval and p-value are NaN, never p = 0."""
    nan = float("nan")
    if not np.isfinite(se) or se <= SE_FLOOR or not df > 0:
        return Effect(point, nan, nan, nan, nan, df)
    reference = stats.norm if np.isinf(df) else stats.t(df)
    q = float(reference.ppf(0.5 + level / 2))
    p = 2 * float(reference.sf(abs(point - null) / se))
    return Effect(point, se, point - q * se, point + q * se, p, df)


def attribute_effect(
    *,
    outcome: np.ndarray,
    treated_on_left: np.ndarray,
    propensity: np.ndarray,
    annotator: np.ndarray,
    level: float = 0.95,
    vcov: Vcov = "CR1",
) -> AttributeEffect:
    """Hajek estimate of tau = P(prefer treated) - 1/2 at balanced position.

    Estimand: the average marginal component effect of the intervention over the
    stimulus pool, with the treated side's position balanced. Fits the weighted
    regression y = b0 + b1 (2L - 1) with weights 1/e (e the logged propensity), so b0 is
    the Hajek (self-normalised inverse-probability) mean at balanced position and
    tau = b0 - 1/2; b1 is the position bias, P(the left response wins) - 1/2.
    ``outcome`` is 1 (treated preferred), 0 (control) or 0.5 (tie counted as half).
    Variance: CR1 by annotator (``vcov='CR2'`` for Bell-McCaffrey); intervals and
    p-values use the normal approximation.
    Assumptions: propensities are the true assignment probabilities and positive;
    annotators independent of each other. Reference: Hainmueller, Hopkins and Yamamoto
    (2014), "Causal inference in conjoint analysis", Political Analysis 22(1).
    """
    y = np.asarray(outcome, dtype=float)
    side = 2.0 * np.asarray(treated_on_left, dtype=float) - 1.0
    x = np.column_stack([np.ones_like(y), side])
    w = 1.0 / np.asarray(propensity, dtype=float)
    fit = wls_cluster(x, y, w, np.asarray(annotator), vcov=vcov)
    return effect_from_fit(fit, level=level)


def effect_from_fit(fit: WLSFit, *, level: float = 0.95) -> AttributeEffect:
    """Read tau = b0 - 1/2 and the position bias b1 off a fit of y = b0 + b1 (2L - 1)."""
    se = fit.se
    return AttributeEffect(
        amce=normal_effect(float(fit.params[0] - 0.5), float(se[0]), 0.0, level),
        position_bias=normal_effect(float(fit.params[1]), float(se[1]), 0.0, level),
        n=fit.n,
        n_clusters=fit.n_clusters,
    )
