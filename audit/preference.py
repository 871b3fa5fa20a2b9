"""A reward model's preference for the treated side of counterfactual pairs, beside the
people's, on the same scale: P(prefer treated) - 1/2."""

from typing import Literal

import numpy as np
from scipy.special import expit

from analysis.estimators.effects import Effect, normal_effect, t_effect
from analysis.estimators.wls import wls_cluster

Scale = Literal["order", "bradley-terry"]


def model_preference(
    *,
    treated: np.ndarray,
    control: np.ndarray,
    prompt: np.ndarray,
    scale: Scale = "order",
    level: float = 0.95,
) -> Effect:
    """tau_model = the model's average P(prefer treated) over the pairs, minus 1/2.

    ``scale='order'``: P is 1 when the model scores the treated side higher, 0 when lower,
    1/2 when equal: the share of pairs it ranks the treated side first. Needs no
    calibration (only the order within a pair is read), so it suits any scorer, but a
    deterministic model that leans the same way on every pair reaches +/-1/2 however
    slight its lean. ``scale='bradley-terry'``: P = expit(r_treated - r_control), the
    preference probability a reward model trained with the Bradley-Terry loss states
    (TRL's reward trainer and ours), comparable in size with people's.

    Estimand: the model's attribute effect over the study's pairs, on the scale of the
    people's AMCE. Variance: CR1 clustered by prompt (pairs of one prompt share its
    content), with a t reference on G - 1 degrees of freedom; equal to statsmodels'
    ``OLS(y, 1).fit(cov_type='cluster', cov_kwds={'groups': prompt}, use_t=True)``.
    Needs at least two prompts for an interval.
    """
    t, c = np.asarray(treated, dtype=float), np.asarray(control, dtype=float)
    if scale == "order":
        y = np.where(t > c, 1.0, np.where(t < c, 0.0, 0.5))
    elif scale == "bradley-terry":
        y = expit(t - c)
    else:
        raise ValueError(f"scale must be 'order' or 'bradley-terry', got {scale!r}")
    ones = np.ones((len(y), 1))
    fit = wls_cluster(ones, y, np.ones(len(y)), np.asarray(prompt))
    point, se, df = float(fit.params[0] - 0.5), float(fit.se[0]), max(fit.n_clusters - 1, 0)
    if fit.n_clusters >= 2 and np.all(y == y[0]):
        # The model ranked every pair the same way: no sampling variation to report, and
        # the gap's interval is then the people's alone.
        return Effect(point, 0.0, point, point, 0.0 if point else 1.0, df)
    return t_effect(point, se, 0.0, level, df=df)


def preference_gap(model: Effect, human: Effect, *, level: float = 0.95) -> Effect:
    """Model minus people, normal interval from the two standard errors taken as
    independent. Both vary with the same prompts, so their covariance is positive and
    ignoring it widens the interval: the gap's interval is conservative."""
    se = float(np.hypot(model.se, human.se))
    return normal_effect(model.point - human.point, se, 0.0, level)
