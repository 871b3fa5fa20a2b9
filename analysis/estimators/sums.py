"""Per-annotator sufficient statistics of the attribute-effect regression.

The weighted regression y = b0 + b1 (2L - 1) with CR1 variance clustered by annotator
needs, per annotator g, only A_g = X_g' W_g X_g (2x2), c_g = X_g' W_g y_g (2) and n_g:
b = (sum A_g)^-1 sum c_g, the cluster score is s_g = c_g - A_g b, and the meat is
sum s_g s_g'. So a refresh costs O(annotators), not O(labels), and adding a label
changes one annotator's sums. The result equals ``attribute_effect`` on the raw labels
to rounding.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.estimators.effects import AttributeEffect, Effect, effect_from_fit, t_effect
from analysis.estimators.grouping import factorize
from analysis.estimators.wls import Vcov, WLSFit, bell_mccaffrey_df, cluster_sandwich


@dataclass(frozen=True)
class ClusterSums:
    """Sufficient statistics, one row per annotator (cluster)."""

    xtwx: np.ndarray  # (G, 2, 2)
    xtwy: np.ndarray  # (G, 2)
    n: np.ndarray  # (G,)

    def subset(self, mask: np.ndarray) -> "ClusterSums":
        """The clusters selected by a boolean mask (a subgroup of annotators)."""
        return ClusterSums(self.xtwx[mask], self.xtwy[mask], self.n[mask])

    def __add__(self, other: "ClusterSums") -> "ClusterSums":
        """Concatenate two sets of clusters (distinct annotators)."""
        return ClusterSums(
            np.concatenate([self.xtwx, other.xtwx]),
            np.concatenate([self.xtwy, other.xtwy]),
            np.concatenate([self.n, other.n]),
        )


def _sums_by_cell(
    y: np.ndarray, side: np.ndarray, w: np.ndarray, cell: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # With x = (1, s) and s^2 = 1: X'WX = [[sum w, sum w s], [sum w s, sum w]].
    sw = np.bincount(cell, weights=w, minlength=size)
    sws = np.bincount(cell, weights=w * side, minlength=size)
    xtwx = np.stack([np.stack([sw, sws], -1), np.stack([sws, sw], -1)], -2)
    wy = w * y
    xtwy = np.stack(
        [
            np.bincount(cell, weights=wy, minlength=size),
            np.bincount(cell, weights=wy * side, minlength=size),
        ],
        -1,
    )
    n = np.bincount(cell, minlength=size).astype(float)
    return xtwx, xtwy, n


def _label_arrays(
    outcome: np.ndarray, treated_on_left: np.ndarray, propensity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(outcome, dtype=float)
    side = 2.0 * np.asarray(treated_on_left, dtype=float) - 1.0
    return y, side, 1.0 / np.asarray(propensity, dtype=float)


def cluster_sums(
    *,
    outcome: np.ndarray,
    treated_on_left: np.ndarray,
    propensity: np.ndarray,
    annotator: np.ndarray,
) -> tuple[np.ndarray, ClusterSums]:
    """The sorted annotator ids and their sufficient statistics."""
    y, side, w = _label_arrays(outcome, treated_on_left, propensity)
    ids, index = factorize(annotator)
    xtwx, xtwy, n = _sums_by_cell(y, side, w, index, len(ids))
    return ids, ClusterSums(xtwx=xtwx, xtwy=xtwy, n=n)


def cluster_sums_by_stratum(
    *,
    outcome: np.ndarray,
    treated_on_left: np.ndarray,
    propensity: np.ndarray,
    annotator: np.ndarray,
    stratum: np.ndarray,
) -> dict[object, tuple[np.ndarray, ClusterSums]]:
    """``cluster_sums`` for each stratum (e.g. intervention) in one pass over the labels.

    Returns {stratum: (annotator ids present in it, their sums)}, equal to calling
    ``cluster_sums`` on each stratum's labels.
    """
    y, side, w = _label_arrays(outcome, treated_on_left, propensity)
    ids, a = factorize(annotator)
    strata, s = factorize(stratum)
    g = len(ids)
    xtwx, xtwy, n = _sums_by_cell(y, side, w, s * g + a, len(strata) * g)
    xtwx, xtwy, n = xtwx.reshape(-1, g, 2, 2), xtwy.reshape(-1, g, 2), n.reshape(-1, g)
    out: dict[object, tuple[np.ndarray, ClusterSums]] = {}
    for k, key in enumerate(strata.tolist()):
        present = n[k] > 0
        out[key] = (ids[present], ClusterSums(xtwx[k][present], xtwy[k][present], n[k][present]))
    return out


def _fit(sums: ClusterSums) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Labels, bread (sum A_g)^-1, coefficients and cluster scores (module docstring)."""
    bread = np.linalg.inv(sums.xtwx.sum(0))
    params = bread @ sums.xtwy.sum(0)
    return int(sums.n.sum()), bread, params, sums.xtwy - sums.xtwx @ params


def wls_from_sums(sums: ClusterSums, *, vcov: Vcov = "CR1") -> WLSFit:
    """WLS coefficients and CR1 (or CR2) covariance from per-cluster sums (module docstring)."""
    n_total, bread, params, scores = _fit(sums)
    cov = cluster_sandwich(bread=bread, scores=scores, hessians=sums.xtwx, n=n_total, vcov=vcov)
    return WLSFit(params=params, cov=cov, n=n_total, n_clusters=len(sums.n))


def attribute_effect_from_sums(
    sums: ClusterSums, *, level: float = 0.95, vcov: Vcov = "CR1"
) -> AttributeEffect:
    return effect_from_fit(wls_from_sums(sums, vcov=vcov), level=level)


Weighting = Literal["label", "annotator"]


@dataclass(frozen=True)
class RowEffect:
    """One estimand's effect on a set of annotators, with what monitoring needs."""

    weighting: Weighting
    effect: Effect  # tau on the effect scale [-1/2, 1/2]
    n: int
    n_clusters: int
    monitoring_se: float  # the asymptotic standard error the confidence sequence uses


def label_weighted_effect(sums: ClusterSums, *, level: float = 0.95) -> RowEffect:
    """Every label counts once: tau = b0 - 1/2 of the regression y = b0 + b1 (2L - 1).

    Inference: CR2 with Bell-McCaffrey degrees of freedom (honest with few annotators,
    close to CR1 and the normal with many). Monitoring uses the CR1 sandwich."""
    # One fit, two sandwiches: a refresh computes this for every row of every snapshot.
    n, bread, params, scores = _fit(sums)

    def se(vcov: Vcov) -> float:
        cov = cluster_sandwich(bread=bread, scores=scores, hessians=sums.xtwx, n=n, vcov=vcov)
        return float(np.sqrt(cov[0, 0]))

    df = bell_mccaffrey_df(bread=bread, hessians=sums.xtwx, contrast=np.array([1.0, 0.0]))
    effect = t_effect(float(params[0] - 0.5), se("CR2"), 0.0, level, df=df)
    return RowEffect("label", effect, n, len(sums.n), se("CR1"))


def annotator_weighted_effect(sums: ClusterSums, *, level: float = 0.95) -> RowEffect:
    """Every annotator counts once: tau = mean over annotators of their own mean preference
    for the treated side, minus 1/2; t with G - 1 degrees of freedom on the annotator
    means (their sample standard deviation over sqrt(G))."""
    means = sums.xtwy[:, 0] / sums.xtwx[:, 0, 0]
    g = len(means)
    se = float(means.std(ddof=1) / np.sqrt(g)) if g > 1 else float("nan")
    effect = t_effect(float(means.mean() - 0.5), se, 0.0, level, df=float(g - 1))
    return RowEffect("annotator", effect, int(sums.n.sum()), g, se)


def row_effect(sums: ClusterSums, *, weighting: Weighting, level: float = 0.95) -> RowEffect:
    if weighting == "label":
        return label_weighted_effect(sums, level=level)
    if weighting == "annotator":
        return annotator_weighted_effect(sums, level=level)
    raise ValueError(f"weighting must be 'label' or 'annotator', got {weighting!r}")
