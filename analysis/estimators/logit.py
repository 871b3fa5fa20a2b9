"""The log-odds model of preference, logit P(y=1) = b0 + b1 (2L - 1), cluster-robust."""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from analysis.estimators.effects import Effect, normal_effect
from analysis.estimators.grouping import factorize
from analysis.estimators.wls import Vcov, cluster_sandwich


@dataclass(frozen=True)
class LogitFit:
    params: np.ndarray
    cov: np.ndarray
    n: int
    n_clusters: int
    converged: bool

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


@dataclass(frozen=True)
class LogitEffect:
    """b0: log-odds of preferring the treated response at balanced position (0 = no
    effect); b1: position bias on the log-odds scale (log-odds that left wins, half)."""

    log_odds: Effect
    position_bias: Effect
    n: int
    n_clusters: int


@dataclass(frozen=True)
class SideCounts:
    """Per-annotator counts by side: column 0 treated on the right, column 1 on the left."""

    n: np.ndarray  # (G, 2) labels
    successes: np.ndarray  # (G, 2) sum of y (ties count 0.5 when kept)

    def subset(self, mask: np.ndarray) -> "SideCounts":
        return SideCounts(self.n[mask], self.successes[mask])


def logit_cluster(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    vcov: Vcov | None = "CR1",
    max_iter: int = 100,
    tol: float = 1e-12,
) -> LogitFit:
    """Maximum-likelihood logistic regression by Newton's method, cluster-robust covariance.

    Estimand: the coefficients of logit P(y = 1 | x) = x'b. ``y`` may be fractional in
    [0, 1] (ties as 0.5: a quasi-likelihood fit with the same score equations).
    ``vcov='CR1'`` matches statsmodels' ``Logit(y, x).fit().get_robustcov_results(
    cov_type='cluster', groups=g)`` (factor G/(G-1) (N-1)/(N-K)); ``'CR2'`` is
    Bell-McCaffrey on the IRLS working model; ``None`` gives the model-based inverse
    Hessian (statsmodels' default ``nonrobust``). Assumes independence across clusters and
    no perfect separation (then the MLE does not exist: ``converged`` is False).
    Reference: McCullagh and Nelder (1989), Generalized Linear Models, ch. 4; Cameron and
    Miller (2015).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = x.shape
    b = np.zeros(k)
    converged = False
    for _ in range(max_iter):
        p = expit(x @ b)
        grad = x.T @ (y - p)
        hess = (x * (p * (1 - p))[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        b = b + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(b))):
            converged = True
            break
    p = expit(x @ b)
    wts = p * (1 - p)
    bread = np.linalg.inv((x * wts[:, None]).T @ x)
    if vcov is None:
        return LogitFit(b, bread, n, n, converged)
    if groups is None:
        groups = np.arange(n)
    _, index = np.unique(np.asarray(groups), return_inverse=True)
    g = int(index.max()) + 1
    scores = np.zeros((g, k))
    np.add.at(scores, index, x * (y - p)[:, None])
    hessians = np.zeros((g, k, k))
    if vcov == "CR2":
        np.add.at(hessians, index, (x * wts[:, None])[:, :, None] * x[:, None, :])
    cov = cluster_sandwich(bread=bread, scores=scores, hessians=hessians, n=n, vcov=vcov)
    return LogitFit(b, cov, n, g, converged)


def side_counts(
    *, outcome: np.ndarray, treated_on_left: np.ndarray, annotator: np.ndarray
) -> tuple[np.ndarray, SideCounts]:
    """The sorted annotator ids and each one's label counts and successes by side."""
    ids, index = factorize(annotator)
    cell = 2 * index + np.asarray(treated_on_left, dtype=int)
    size = 2 * len(ids)
    n = np.bincount(cell, minlength=size).reshape(-1, 2).astype(float)
    s = np.bincount(cell, weights=np.asarray(outcome, float), minlength=size).reshape(-1, 2)
    return ids, SideCounts(n=n, successes=s)


def side_counts_by_stratum(
    *, outcome: np.ndarray, treated_on_left: np.ndarray, annotator: np.ndarray, stratum: np.ndarray
) -> dict[object, tuple[np.ndarray, SideCounts]]:
    """``side_counts`` for each stratum (e.g. intervention) in one pass over the labels."""
    ids, a = factorize(annotator)
    strata, s = factorize(stratum)
    g = len(ids)
    cell = 2 * (s * g + a) + np.asarray(treated_on_left, dtype=int)
    size = 2 * g * len(strata)
    n = np.bincount(cell, minlength=size).reshape(-1, g, 2).astype(float)
    y = np.bincount(cell, weights=np.asarray(outcome, float), minlength=size).reshape(-1, g, 2)
    out: dict[object, tuple[np.ndarray, SideCounts]] = {}
    for k, key in enumerate(strata.tolist()):
        present = n[k].sum(1) > 0
        out[key] = (ids[present], SideCounts(n[k][present], y[k][present]))
    return out


# The only two rows of the design: (1, -1) treated on the right, (1, +1) on the left.
_SIDES = np.array([[1.0, -1.0], [1.0, 1.0]])


def logit_fit_from_counts(counts: SideCounts, *, vcov: Vcov = "CR1") -> LogitFit:
    """The clustered logit of ``logit_effect`` from per-annotator side counts.

    With only two distinct rows in the design the MLE is closed-form: each side's fitted
    probability is its observed share, b0 = (eta_L + eta_R)/2 and b1 = (eta_L - eta_R)/2.
    Cluster scores are sum_side x_side (S_g,side - n_g,side p_side), so the sandwich costs
    O(annotators). Equal to ``logit_cluster`` on the labels.
    """
    n_side = counts.n.sum(0)
    share = counts.successes.sum(0) / n_side
    n_total = int(n_side.sum())
    k, g = 2, counts.n.shape[0]
    if np.any(n_side == 0) or np.any((share <= 0) | (share >= 1)):
        # No data on a side or all labels agree there: the MLE is infinite.
        nan = np.full(k, np.nan)
        return LogitFit(nan, np.full((k, k), np.nan), n_total, g, False)
    eta = np.log(share / (1 - share))
    params = np.array([(eta[1] + eta[0]) / 2, (eta[1] - eta[0]) / 2])
    resid = counts.successes - counts.n * share  # (G, 2)
    scores = resid @ _SIDES
    info = share * (1 - share)  # (2,)
    outer = _SIDES[:, :, None] * _SIDES[:, None, :]  # (2, k, k)
    hessians = np.einsum("gs,sij->gij", counts.n * info, outer)
    bread = np.linalg.inv(np.einsum("s,sij->ij", n_side * info, outer))
    cov = cluster_sandwich(bread=bread, scores=scores, hessians=hessians, n=n_total, vcov=vcov)
    return LogitFit(params, cov, n_total, g, True)


def logit_effect_from_counts(
    counts: SideCounts, *, level: float = 0.95, vcov: Vcov = "CR1"
) -> LogitEffect:
    fit = logit_fit_from_counts(counts, vcov=vcov)
    return LogitEffect(
        log_odds=normal_effect(float(fit.params[0]), float(fit.se[0]), 0.0, level),
        position_bias=normal_effect(float(fit.params[1]), float(fit.se[1]), 0.0, level),
        n=fit.n,
        n_clusters=fit.n_clusters,
    )


def logit_effect(
    *,
    outcome: np.ndarray,
    treated_on_left: np.ndarray,
    annotator: np.ndarray,
    level: float = 0.95,
    vcov: Vcov = "CR1",
) -> LogitEffect:
    """The attribute effect on the log-odds scale: logit P(y=1) = b0 + b1 (2L - 1).

    Estimand: b0, the log-odds of preferring the treated response when position is
    balanced (exp(b0) the odds ratio against indifference), and b1 the position effect.
    Unweighted (the design's propensities are equal within a comparison; use the Hajek
    ``attribute_effect`` when they vary). Ties count 0.5 (or drop them before calling).
    Variance: CR1 by annotator exactly as statsmodels' ``Logit(...).fit(cov_type=
    'cluster')``; CR2 as an option. Assumes independent annotators and that each side has
    both outcomes. Reference: Agresti (2013), Categorical Data Analysis, 3rd ed., ch. 5.
    """
    _, counts = side_counts(outcome=outcome, treated_on_left=treated_on_left, annotator=annotator)
    return logit_effect_from_counts(counts, level=level, vcov=vcov)
