"""Weighted least squares with cluster-robust (CR1 or CR2) covariance, numpy only."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

Vcov = Literal["CR1", "CR2"]


@dataclass(frozen=True)
class WLSFit:
    params: np.ndarray
    cov: np.ndarray
    n: int
    n_clusters: int

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


def _sym_power(m: np.ndarray, power: float) -> np.ndarray:
    """m^power for symmetric positive definite m (or a stack of them)."""
    vals, vecs = np.linalg.eigh(m)
    return (vecs * vals[..., None, :] ** power) @ np.swapaxes(vecs, -1, -2)


def cluster_sandwich(
    *, bread: np.ndarray, scores: np.ndarray, hessians: np.ndarray, n: int, vcov: Vcov = "CR1"
) -> np.ndarray:
    """Cluster-robust covariance from per-cluster scores s_g and Hessian pieces A_g.

    ``bread`` is B = (sum_g A_g)^-1. CR1 (statsmodels' ``cov_type='cluster'``):
    c B (sum s_g s_g') B with c = G/(G-1) * (N-1)/(N-K). CR2 (Bell and McCaffrey 2002,
    symmetric form of Imbens and Kolesar 2016): each score is replaced by
    B^-1/2 (I - B^1/2 A_g B^1/2)^-1/2 B^1/2 s_g, which equals X_g' W_g^1/2 (I - H_gg)^-1/2
    W_g^1/2 e_g (H_gg the cluster's block of the weighted hat matrix) but costs only k x k
    algebra per cluster; no further factor. For a GLM the same holds on the IRLS working
    model at convergence. NaN when G < 2 or N <= K.
    """
    g, k = scores.shape
    if g < 2 or n <= k:
        return np.full((k, k), np.nan)
    if vcov == "CR1":
        c = g / (g - 1) * (n - 1) / (n - k)
        return c * bread @ (scores.T @ scores) @ bread
    if vcov != "CR2":
        raise ValueError(f"vcov must be 'CR1' or 'CR2', got {vcov!r}")
    half, inv_half = _sym_power(bread, 0.5), _sym_power(bread, -0.5)
    inner = np.eye(k) - half @ hessians @ half
    adjusted = inv_half @ _sym_power(inner, -0.5) @ half @ scores[:, :, None]
    adjusted = adjusted[:, :, 0]
    return bread @ (adjusted.T @ adjusted) @ bread


def wls_cluster(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray, *, vcov: Vcov = "CR1"
) -> WLSFit:
    """WLS of ``y`` on ``x`` with weights ``w`` and cluster-robust covariance on ``groups``.

    Estimand: the weighted least-squares coefficients. The sandwich uses the scores
    x_i w_i u_i summed within clusters and the small-sample factor
    c = G/(G-1) * (N-1)/(N-K), as statsmodels' ``cov_type='cluster'`` does, so results
    match ``sm.WLS(y, x, weights=w).fit(cov_type='cluster', cov_kwds={'groups': g})``.
    ``vcov='CR2'`` gives the Bell-McCaffrey bias-reduced sandwich instead (better with few
    clusters; see ``cluster_sandwich``).
    Assumes independence across clusters, arbitrary dependence within; needs G >= 2.
    Reference: Cameron and Miller (2015), "A practitioner's guide to cluster-robust
    inference", J. Human Resources 50(2).
    """
    n, k = x.shape
    xw = x * w[:, None]
    bread = np.linalg.inv(x.T @ xw)
    params = bread @ (xw.T @ y)
    resid = y - x @ params
    _, cluster_index = np.unique(groups, return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1 if n else 0
    scores = np.zeros((n_clusters, k))
    np.add.at(scores, cluster_index, xw * resid[:, None])
    hessians = np.zeros((n_clusters, k, k))
    if vcov == "CR2":
        np.add.at(hessians, cluster_index, xw[:, :, None] * x[:, None, :])
    cov = cluster_sandwich(bread=bread, scores=scores, hessians=hessians, n=n, vcov=vcov)
    return WLSFit(params=params, cov=cov, n=n, n_clusters=n_clusters)
