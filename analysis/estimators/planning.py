"""How many labels a study needs: power with the design effect of clustered labels."""

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats


@dataclass(frozen=True)
class Plan:
    labels: int  # total labels, rounded up
    annotators: int  # at labels_per_annotator each, rounded up
    labels_exact: float
    design_effect: float


def design_effect(*, labels_per_annotator: float, icc: float) -> float:
    """Kish's design effect 1 + (m - 1) ICC of m correlated labels per annotator."""
    if labels_per_annotator < 1:
        raise ValueError(f"labels_per_annotator must be at least 1, got {labels_per_annotator}")
    if not 0 <= icc <= 1:
        raise ValueError(f"icc must be in [0, 1], got {icc}")
    return 1.0 + (labels_per_annotator - 1.0) * icc


def power(
    *,
    effect: float,
    n_labels: float,
    labels_per_annotator: float = 1,
    icc: float = 0.0,
    alpha: float = 0.05,
    sd: float = 0.5,
) -> float:
    """Power of the two-sided z-test of tau = 0 with ``n_labels`` labels.

    Estimand: the probability of rejecting tau = 0 at level alpha when the true effect is
    ``effect`` (on P(prefer treated) - 1/2). Labels count as n_labels / deff independent
    ones, deff = 1 + (m - 1) ICC; ``sd`` is the per-label standard deviation (0.5 is the
    binary maximum, conservative). With d = effect / sd and n_eff labels:
    Phi(d sqrt(n_eff) - z) + Phi(-d sqrt(n_eff) - z), z = Phi^-1(1 - alpha/2); equal to
    statsmodels' ``NormalIndPower().power(d, n_eff, alpha, ratio=0)``. Assumes the normal
    approximation and an ICC measured on the same kind of annotators. Reference: Kish
    (1965), Survey Sampling, section 5.4; Cohen (1988), Statistical Power Analysis, ch. 12.
    """
    deff = design_effect(labels_per_annotator=labels_per_annotator, icc=icc)
    z = stats.norm.isf(alpha / 2)
    shift = abs(effect) / sd * np.sqrt(n_labels / deff)
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def labels_needed(
    *,
    effect: float,
    target_power: float = 0.8,
    alpha: float = 0.05,
    labels_per_annotator: float = 1,
    icc: float = 0.0,
    sd: float = 0.5,
) -> Plan:
    """Labels needed to detect ``effect`` with ``target_power`` (inverse of ``power``).

    Solves power(n) = target_power exactly (both tails) by root finding on n_eff and
    multiplies by the design effect; also returns the annotators needed at
    ``labels_per_annotator`` each. Same assumptions and references as ``power``.
    """
    if effect == 0:
        raise ValueError("effect must be non-zero: no sample size detects a zero effect")
    if not alpha < target_power < 1:
        raise ValueError(f"target_power must be in (alpha, 1), got {target_power}")
    deff = design_effect(labels_per_annotator=labels_per_annotator, icc=icc)
    d = abs(effect) / sd
    z = stats.norm.isf(alpha / 2)

    def gap(n_eff: float) -> float:
        shift = d * np.sqrt(n_eff)
        return stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z) - target_power

    start = ((z + stats.norm.ppf(target_power)) / d) ** 2  # the one-tail closed form
    n_eff = optimize.brentq(gap, start * 0.5, start * 1.5 + 1, xtol=1e-12, rtol=1e-14)
    exact = n_eff * deff
    labels = int(np.ceil(exact - 1e-9))
    annotators = int(np.ceil(labels / labels_per_annotator - 1e-9))
    return Plan(labels=labels, annotators=annotators, labels_exact=exact, design_effect=deff)


def icc_oneway(*, outcome: np.ndarray, annotator: np.ndarray) -> float:
    """The intraclass correlation of labels within annotators, one-way ANOVA estimator.

    ICC = (MSB - MSW) / (MSB + (m0 - 1) MSW), m0 the adjusted mean cluster size; truncated
    at 0. Use a pilot's labels to plan with ``labels_needed``. Reference: Donner (1986),
    "A review of inference procedures for the intraclass correlation coefficient",
    International Statistical Review 54(1).
    """
    y = np.asarray(outcome, dtype=float)
    _, g = np.unique(np.asarray(annotator), return_inverse=True)
    k = int(g.max()) + 1
    n_g = np.bincount(g, minlength=k).astype(float)
    n = n_g.sum()
    if k < 2 or n <= k:
        return float("nan")
    means = np.bincount(g, weights=y, minlength=k) / n_g
    msb = (n_g * (means - y.mean()) ** 2).sum() / (k - 1)
    msw = ((y - means[g]) ** 2).sum() / (n - k)
    m0 = (n - (n_g**2).sum() / n) / (k - 1)
    denom = msb + (m0 - 1) * msw
    return float(max(0.0, (msb - msw) / denom)) if denom > 0 else float("nan")
