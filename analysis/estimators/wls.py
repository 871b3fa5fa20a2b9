"""Weighted least squares with cluster-robust (CR1) covariance, numpy only."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WLSFit:
    params: np.ndarray
    cov: np.ndarray
    n: int
    n_clusters: int

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))


def wls_cluster(x: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray) -> WLSFit:
    """WLS of ``y`` on ``x`` with weights ``w`` and CR1 covariance clustered on ``groups``.

    Estimand: the weighted least-squares coefficients. The sandwich uses the scores
    x_i w_i u_i summed within clusters and the small-sample factor
    c = G/(G-1) * (N-1)/(N-K), as statsmodels' ``cov_type='cluster'`` does, so results
    match ``sm.WLS(y, x, weights=w).fit(cov_type='cluster', cov_kwds={'groups': g})``.
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
    meat = scores.T @ scores
    if n_clusters < 2 or n <= k:
        cov = np.full((k, k), np.nan)
    else:
        c = n_clusters / (n_clusters - 1) * (n - 1) / (n - k)
        cov = c * bread @ meat @ bread
    return WLSFit(params=params, cov=cov, n=n, n_clusters=n_clusters)
