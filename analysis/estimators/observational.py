"""Effects from observational pairs: inverse-probability weighting and doubly robust AIPW.

In imported (observational) pairs nobody randomised which annotators met which treated
responses: annotators' and prompts' covariates can drive both the treatment and the
preference. These estimators adjust for the recorded covariates X under
no-unmeasured-confounding and overlap; the E-value says how strong an unrecorded
confounder would have to be to explain the estimate away.

Notation: y outcome in [0, 1] (1: the treated side chosen), t in {0, 1} the treatment,
X covariates (an intercept is added), e(X) = P(t = 1 | X) by logistic regression.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from analysis.estimators.effects import Effect, normal_effect
from analysis.estimators.grouping import factorize
from analysis.estimators.logit import logit_cluster


@dataclass(frozen=True)
class Overlap:
    """How well treated and control units overlap in their propensities."""

    propensity_treated: tuple[float, float]  # (min, max) among the treated
    propensity_control: tuple[float, float]
    ess_treated: float  # Kish effective sample size of the treated's weights
    ess_control: float
    n_treated: int
    n_control: int
    trimmed: int  # units dropped for a propensity outside [trim, 1 - trim]


@dataclass(frozen=True)
class ObservationalEffect:
    """The average treatment effect on y (a risk difference), the two mean potential
    outcomes, their risk ratio with its E-values, and the overlap diagnostics."""

    ate: Effect
    mean_treated: float  # E[y(1)]
    mean_control: float  # E[y(0)]
    risk_ratio: float
    risk_ratio_ci: tuple[float, float]
    e_value: float  # for the point estimate
    e_value_ci: float  # for the interval's limit nearest 1 (1 when it includes 1)
    overlap: Overlap
    n: int
    n_clusters: int


def _design(covariates: np.ndarray) -> np.ndarray:
    x = np.asarray(covariates, dtype=float)
    x = x.reshape(len(x), -1)
    return np.column_stack([np.ones(len(x)), x])


def propensity_fit(*, treatment: np.ndarray, covariates: np.ndarray) -> np.ndarray:
    """Coefficients of logit P(t = 1 | X) = [1, X] g by maximum likelihood (equal to
    statsmodels' ``Logit(t, add_constant(X)).fit().params``)."""
    try:
        fit = logit_cluster(_design(covariates), np.asarray(treatment, float), vcov=None)
    except np.linalg.LinAlgError:
        fit = None
    if fit is None or not fit.converged or not np.isfinite(fit.params).all():
        raise ValueError(
            "the propensity model did not converge: some covariate separates treated from "
            "control units perfectly (no overlap); drop or coarsen it"
        )
    return fit.params


def e_value(rr: float) -> float:
    """VanderWeele and Ding's E-value of a risk ratio: the minimum strength of association
    (risk-ratio scale) an unmeasured confounder needs with both treatment and outcome to
    explain the ratio away. rr < 1 is inverted first. Reference: VanderWeele and Ding
    (2017), "Sensitivity analysis in observational research: introducing the E-value",
    Ann. Intern. Med. 167(4)."""
    if not np.isfinite(rr) or rr <= 0:
        return float("nan")
    r = rr if rr >= 1 else 1.0 / rr
    return float(r + np.sqrt(r * (r - 1.0)))


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / (w * w).sum()) if len(w) else 0.0


def _range(e: np.ndarray) -> tuple[float, float]:
    return (float(e.min()), float(e.max())) if len(e) else (float("nan"), float("nan"))


def _cluster_cov(
    psi: np.ndarray, groups: np.ndarray | None, n_params: int
) -> tuple[np.ndarray, int]:
    """sum over clusters of (summed moments)(summed moments)' with statsmodels' CR1 factor
    G/(G-1) (N-1)/(N-K); per unit (HC0, no factor) without groups."""
    n = len(psi)
    if groups is None:
        return psi.T @ psi, n
    _, index = factorize(np.asarray(groups))
    g = int(index.max()) + 1
    summed = np.zeros((g, psi.shape[1]))
    np.add.at(summed, index, psi)
    factor = g / (g - 1) * (n - 1) / (n - n_params) if g > 1 else np.nan
    return factor * (summed.T @ summed), g


def _finish(
    *,
    mu: np.ndarray,
    cov_mu: np.ndarray,
    level: float,
    overlap: Overlap,
    n: int,
    n_clusters: int,
) -> ObservationalEffect:
    mu1, mu0 = float(mu[0]), float(mu[1])
    contrast = np.array([1.0, -1.0])
    se = float(np.sqrt(contrast @ cov_mu @ contrast))
    ate = normal_effect(mu1 - mu0, se, 0.0, level)
    # Risk ratio by the delta method on log(mu1 / mu0).
    grad = np.array([1 / mu1, -1 / mu0]) if mu1 > 0 and mu0 > 0 else np.full(2, np.nan)
    se_log = float(np.sqrt(grad @ cov_mu @ grad))
    z = float(normal_effect(0.0, 1.0, 0.0, level).ci_high)
    rr = mu1 / mu0 if mu0 > 0 else float("nan")
    low, high = float(np.exp(np.log(rr) - z * se_log)), float(np.exp(np.log(rr) + z * se_log))
    nearest = 1.0 if low <= 1 <= high else (low if low > 1 else high)
    return ObservationalEffect(
        ate=ate,
        mean_treated=mu1,
        mean_control=mu0,
        risk_ratio=rr,
        risk_ratio_ci=(low, high),
        e_value=e_value(rr),
        e_value_ci=e_value(nearest),
        overlap=overlap,
        n=n,
        n_clusters=n_clusters,
    )


def _prepare(outcome, treatment, covariates, groups, trim):
    y = np.asarray(outcome, dtype=float)
    t = np.asarray(treatment, dtype=float)
    x = _design(covariates)
    if not np.isin(t, (0.0, 1.0)).all():
        raise ValueError("treatment must be 0 or 1 for every unit")
    if t.sum() == 0 or t.sum() == len(t):
        raise ValueError("both treated and control units are needed")
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    g = np.asarray(groups) if groups is not None else None
    gamma = propensity_fit(treatment=t, covariates=x[:, 1:])
    e = expit(x @ gamma)
    keep = (e >= trim) & (e <= 1 - trim)
    if trim and not keep.all():
        # The estimand becomes the effect on the overlap population (Crump et al. 2009);
        # the propensity model is refitted on the units kept.
        y, t, x = y[keep], t[keep], x[keep]
        g = g[keep] if g is not None else None
        gamma = propensity_fit(treatment=t, covariates=x[:, 1:])
        e = expit(x @ gamma)
    return y, t, x, g, gamma, e, int((~keep).sum())


def _overlap(t: np.ndarray, e: np.ndarray, trimmed: int) -> Overlap:
    treated, control = t == 1, t == 0
    return Overlap(
        propensity_treated=_range(e[treated]),
        propensity_control=_range(e[control]),
        ess_treated=_ess(1 / e[treated]),
        ess_control=_ess(1 / (1 - e[control])),
        n_treated=int(treated.sum()),
        n_control=int(control.sum()),
        trimmed=trimmed,
    )


def _from_moments(
    psi: np.ndarray,
    jac: np.ndarray,
    groups: np.ndarray | None,
    mu: np.ndarray,
    t: np.ndarray,
    e: np.ndarray,
    trimmed: int,
    level: float,
) -> ObservationalEffect:
    """The sandwich J^-1 B J^-T of stacked moments whose last two parameters are (mu1,
    mu0), and the effect read off it."""
    meat, clusters = _cluster_cov(psi, groups, psi.shape[1])
    inv = np.linalg.inv(jac)
    cov = inv @ meat @ inv.T
    return _finish(
        mu=mu,
        cov_mu=cov[-2:, -2:],
        level=level,
        overlap=_overlap(t, e, trimmed),
        n=len(psi),
        n_clusters=clusters,
    )


def ipw_effect(
    *,
    outcome: np.ndarray,
    treatment: np.ndarray,
    covariates: np.ndarray,
    groups: np.ndarray | None = None,
    trim: float = 0.0,
    level: float = 0.95,
) -> ObservationalEffect:
    """Hajek (normalised) inverse-probability-weighted average treatment effect.

    mu1 = sum(t y / e) / sum(t / e), mu0 likewise with 1 - t and 1 - e; the ATE is
    mu1 - mu0, which equals the coefficient on t of the WLS of y on [1, t] with weights
    t/e + (1 - t)/(1 - e). Variance: the M-estimation sandwich stacking the propensity
    score equations with the two weighted means, so the uncertainty of the estimated
    propensity is counted (without ``groups``: equal to statsmodels'
    ``TreatmentEffect(...).ipw()``; with ``groups``: clustered, CR1 factor). ``trim``
    drops units whose propensity is outside [trim, 1 - trim] and refits. Assumes no
    unmeasured confounding given X, overlap (0 < e < 1) and a correct propensity model.
    References: Hirano, Imbens and Ridder (2003), Econometrica 71(4); Lunceford and
    Davidian (2004), Stat. Med. 23(19).
    """
    y, t, x, g, _, e, trimmed = _prepare(outcome, treatment, covariates, groups, trim)
    n, k = x.shape
    w1, w0 = t / e, (1 - t) / (1 - e)
    mu1, mu0 = (w1 * y).sum() / w1.sum(), (w0 * y).sum() / w0.sum()
    # Moments per unit: propensity score x (t - e), then w1 (y - mu1), w0 (y - mu0).
    psi = np.column_stack([x * (t - e)[:, None], w1 * (y - mu1), w0 * (y - mu0)])
    # Jacobian of the mean moments (divided by n below), parameters (gamma, mu1, mu0).
    jac = np.zeros((k + 2, k + 2))
    v = e * (1 - e)
    jac[:k, :k] = -(x * v[:, None]).T @ x
    jac[k, :k] = -((t * (y - mu1) * (1 - e) / e)[:, None] * x).sum(0)
    jac[k, k] = -w1.sum()
    jac[k + 1, :k] = (((1 - t) * (y - mu0) * e / (1 - e))[:, None] * x).sum(0)
    jac[k + 1, k + 1] = -w0.sum()
    return _from_moments(psi, jac, g, np.array([mu1, mu0]), t, e, trimmed, level)


def aipw_effect(
    *,
    outcome: np.ndarray,
    treatment: np.ndarray,
    covariates: np.ndarray,
    groups: np.ndarray | None = None,
    trim: float = 0.0,
    level: float = 0.95,
) -> ObservationalEffect:
    """Doubly robust augmented IPW average treatment effect.

    Outcome models m1(X), m0(X): least squares of y on [1, X] within the treated and
    within the controls. Pseudo-outcomes phi1 = m1 + t (y - m1)/e and
    phi0 = m0 + (1 - t)(y - m0)/(1 - e); mu1, mu0 their means and the ATE mu1 - mu0.
    Consistent when either the propensity or the outcome model is right. Variance: the
    M-estimation sandwich stacking the propensity score equations, both outcome
    regressions and the two means, so every estimated nuisance is counted (without
    ``groups``: equal to statsmodels' ``TreatmentEffect(...).aipw()``; with ``groups``:
    clustered, CR1 factor). Assumptions as ``ipw_effect``. References: Robins, Rotnitzky and Zhao
    (1994), JASA 89(427); Glynn and Quinn (2010), Political Analysis 18(1).
    """
    y, t, x, g, _, e, trimmed = _prepare(outcome, treatment, covariates, groups, trim)
    n, k = x.shape
    beta = {}
    for arm in (1.0, 0.0):
        rows = t == arm
        beta[arm], *_ = np.linalg.lstsq(x[rows], y[rows], rcond=None)
    m1, m0 = x @ beta[1.0], x @ beta[0.0]
    phi1 = m1 + t * (y - m1) / e
    phi0 = m0 + (1 - t) * (y - m0) / (1 - e)
    mu1, mu0 = phi1.mean(), phi0.mean()
    # Stacked moments: propensity score, the two outcome regressions, the two means.
    psi = np.column_stack(
        [
            x * (t - e)[:, None],
            x * (t * (y - m1))[:, None],
            x * ((1 - t) * (y - m0))[:, None],
            phi1 - mu1,
            phi0 - mu0,
        ]
    )
    size = 3 * k + 2
    jac = np.zeros((size, size))
    g_, b1, b0, i1, i0 = slice(0, k), slice(k, 2 * k), slice(2 * k, 3 * k), 3 * k, 3 * k + 1
    jac[g_, g_] = -(x * (e * (1 - e))[:, None]).T @ x
    jac[b1, b1] = -(x * t[:, None]).T @ x
    jac[b0, b0] = -(x * (1 - t)[:, None]).T @ x
    jac[i1, g_] = -((t * (y - m1) * (1 - e) / e)[:, None] * x).sum(0)
    jac[i1, b1] = ((1 - t / e)[:, None] * x).sum(0)
    jac[i1, i1] = -n
    jac[i0, g_] = (((1 - t) * (y - m0) * e / (1 - e))[:, None] * x).sum(0)
    jac[i0, b0] = ((1 - (1 - t) / (1 - e))[:, None] * x).sum(0)
    jac[i0, i0] = -n
    return _from_moments(psi, jac, g, np.array([mu1, mu0]), t, e, trimmed, level)


def naive_effect(*, outcome: np.ndarray, treatment: np.ndarray, level: float = 0.95) -> Effect:
    """The unadjusted difference in means (Welch's standard error): what ignoring the
    confounders gives, to set beside the adjusted estimates."""
    y = np.asarray(outcome, float)
    t = np.asarray(treatment, float) == 1
    a, b = y[t], y[~t]
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    return normal_effect(float(a.mean() - b.mean()), se, 0.0, level)
