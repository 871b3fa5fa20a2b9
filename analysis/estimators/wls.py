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
    """m^power for symmetric positive semi-definite m (or a stack of them). A negative
    power is taken on the positive eigenvalues only (the pseudo-inverse's convention): a
    cluster with leverage 1 (say, one annotator alone on one side) gets no adjustment in
    that direction instead of an infinite one."""
    vals, vecs = np.linalg.eigh(m)
    scale = np.maximum(1.0, np.abs(vals).max(axis=-1, keepdims=True))
    positive = vals > 1e-12 * scale
    scaled = np.where(positive, np.where(positive, vals, 1.0) ** power, 0.0)
    return (vecs * scaled[..., None, :]) @ np.swapaxes(vecs, -1, -2)


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


def bell_mccaffrey_df(*, bread: np.ndarray, hessians: np.ndarray, contrast: np.ndarray) -> float:
    """Bell-McCaffrey degrees of freedom for the CR2 variance of contrast' beta.

    Under the working model (independent errors of equal variance after weighting), the
    CR2 variance of c'b is a quadratic form u'(sum_g q_g q_g')u in the weighted errors u,
    with q_g = (I - H)_{.,g} (I - H_gg)^-1/2 W_g^1/2 X_g B c. Its Satterthwaite degrees of
    freedom are (tr M)^2 / tr(M^2) with M = Q'Q (G x G). Writing T_g = B^1/2 A_g B^1/2
    (A_g = X_g' W_g X_g) and v = B^1/2 c, M = diag(d) - U'U with
    d_g = v'(I - T_g)^-1 T_g v and u_g = (I - T_g)^-1/2 T_g v, so only k x k algebra per
    cluster is needed and the G x G matrix is never formed. NaN with fewer than 2 clusters.
    Reference: Bell and McCaffrey (2002), Survey Methodology 28(2); Imbens and Kolesar
    (2016), "Robust standard errors in small samples", Rev. Econ. Stat. 98(4), eq. (9);
    Pustejovsky and Tipton (2018), JBES 36(4).
    """
    g, k, _ = hessians.shape
    if g < 2:
        return float("nan")
    half = _sym_power(bread, 0.5)
    t = half @ hessians @ half  # (G, k, k)
    v = half @ np.asarray(contrast, dtype=float)
    # T_g and I - T_g share eigenvectors; lam are the eigenvalues of I - T_g.
    lam, vecs = np.linalg.eigh(np.eye(k) - t)
    lam = np.clip(lam, 1e-12, None)
    a = np.einsum("gji,j->gi", vecs, v)  # v in each cluster's eigenbasis
    d = np.einsum("gi,gi->g", a * a, (1.0 - lam) / lam)
    u = np.einsum("gij,gj->gi", vecs, a * (1.0 - lam) / np.sqrt(lam))  # (I - T_g)^-1/2 T_g v
    uu = np.einsum("gi,gi->g", u, u)
    trace = d.sum() - uu.sum()
    gram = u.T @ u  # k x k, same nonzero spectrum as U'U
    frob2 = (d * d).sum() - 2.0 * (d * uu).sum() + float((gram * gram).sum())
    return float(trace * trace / frob2) if frob2 > 0 else float("nan")
