"""Anytime-valid monitoring: the normal-mixture confidence sequence and its p-value."""

from dataclasses import dataclass

import numpy as np

from analysis.estimators.sums import ClusterSums


@dataclass(frozen=True)
class ConfidenceSequence:
    """The confidence sequence at the current time t (all values on the scale of ``values``).

    ``p_value`` is the always-valid p-value for ``mean == null`` at time t: it is at most
    alpha exactly when ``null`` lies outside [low, high].
    """

    mean: float
    low: float
    high: float
    radius: float
    p_value: float
    t: int


def normal_mixture_radius(*, t: np.ndarray | int, alpha: float = 0.05, rho: float) -> np.ndarray:
    """The radius u(V)/t at V = t/4 for each t (vectorised; see ``normal_mixture_cs``)."""
    t = np.asarray(t, dtype=float)
    v = t / 4.0
    return np.sqrt((v + rho) * (np.log1p(v / rho) + 2.0 * np.log(1.0 / alpha))) / t


def normal_mixture_cs(
    *, values: np.ndarray, alpha: float = 0.05, rho: float, null: float = 0.5
) -> ConfidenceSequence:
    """Two-sided normal-mixture confidence sequence for the mean of ``values`` in [0, 1].

    Estimand: the common mean mu of i.i.d. (or conditionally mean-mu) observations in
    [0, 1]. Pass annotator-level means (one value per annotator, e.g. ``annotator_means``):
    labels of one annotator are correlated, so a per-label sequence is only a heuristic.
    With S_t = sum (x_i - mu), t observations and the sub-Gaussian variance proxy 1/4 of a
    [0, 1] variable, V = t/4 and the boundary u(V) = sqrt((V + rho)(ln(1 + V/rho) +
    2 ln(1/alpha))) is crossed by |S_t| with probability at most alpha over all t at once,
    so mean +- u(V)/t covers mu at every time simultaneously (continuous monitoring and
    optional stopping are allowed). The always-valid p-value is 1/M_t(null), M_t the
    Gaussian-mixture martingale sqrt(rho/(V + rho)) exp(S_t^2 / (2 (V + rho))), capped
    at 1; by Ville's inequality P(p_t <= alpha for some t) <= alpha, so it may be read at
    every snapshot (store the running minimum for a monotone version). ``rho`` tunes
    where the sequence is tightest (``rho_for_planned``).
    Assumptions: observations independent given the past, bounded in [0, 1].
    Reference: Howard, Ramdas, McAuliffe and Sekhon (2021), "Time-uniform, nonparametric,
    nonasymptotic confidence sequences", Annals of Statistics 49(2), eq. (14).
    """
    x = np.asarray(values, dtype=float)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if rho <= 0:
        raise ValueError(f"rho must be positive, got {rho}; use rho_for_planned(n_planned=...)")
    t = int(x.size)
    if t == 0:
        return ConfidenceSequence(float("nan"), 0.0, 1.0, float("inf"), 1.0, 0)
    if np.any((x < 0) | (x > 1)):
        raise ValueError("values must lie in [0, 1]; pass annotator-level mean preferences")
    v = t / 4.0
    mean = float(x.mean())
    radius = float(normal_mixture_radius(t=t, alpha=alpha, rho=rho))
    s = t * (mean - null)
    log_m = 0.5 * np.log(rho / (v + rho)) + s * s / (2.0 * (v + rho))
    p_value = float(min(1.0, np.exp(-log_m)))
    return ConfidenceSequence(mean, mean - radius, mean + radius, radius, p_value, t)


def rho_for_planned(*, n_planned: int, alpha: float = 0.05) -> float:
    """The mixture parameter that (approximately) minimises the radius at t = n_planned.

    With V_opt = n_planned / 4, rho = V_opt / (2 ln(1/alpha) + ln(1 + 2 ln(1/alpha)))
    (Howard et al. 2021, section 3.5; the choice in the ``confseq`` package).
    """
    if n_planned < 1:
        raise ValueError(f"n_planned must be at least 1, got {n_planned}")
    la = 2.0 * np.log(1.0 / alpha)
    return float((n_planned / 4.0) / (la + np.log1p(la)))


def annotator_means(sums: ClusterSums) -> np.ndarray:
    """Each annotator's Hajek mean preference for the treated side, in [0, 1].

    The weighted mean of y within an annotator; under randomised sides its expectation is
    that annotator's 1/2 + tau, so the mean over annotators estimates the annotator-averaged
    effect (each annotator weighted equally).
    """
    return sums.xtwy[:, 0] / sums.xtwx[:, 0, 0]
