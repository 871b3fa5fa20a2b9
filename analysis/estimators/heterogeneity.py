"""Does the attribute effect differ between annotators? Subgroups, Wald test, Cochran's Q."""

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.estimators.effects import AttributeEffect
from analysis.estimators.multiple import adjust_pvalues
from analysis.estimators.sums import ClusterSums, attribute_effect_from_sums, wls_from_sums


@dataclass(frozen=True)
class SubgroupEffect:
    """The effect in one covariate subgroup; p-values adjusted across the subgroups."""

    label: object
    effect: AttributeEffect
    p_holm: float
    p_bh: float


@dataclass(frozen=True)
class WaldTest:
    """A chi-square test that a set of coefficients is zero."""

    statistic: float
    df: int
    p_value: float
    coefficients: np.ndarray
    cov: np.ndarray


def subgroup_effects(
    *, sums: ClusterSums, labels: np.ndarray, level: float = 0.95
) -> list[SubgroupEffect]:
    """The attribute effect within each subgroup of annotators, with Holm and BH p-values.

    Estimand: tau_s = P(prefer treated | subgroup s) - 1/2 at balanced position, for each
    subgroup s of a pre-treatment covariate (``labels[g]`` is cluster g's subgroup), each
    estimated as ``attribute_effect`` on that subgroup's annotators (Hajek, CR1). The
    p-values for tau_s = 0 are adjusted across subgroups by Holm (family-wise error) and
    Benjamini-Hochberg (false discovery rate). Assumes covariates were recorded before
    treatment, so subgroups are not affected by it. Subgroups are returned sorted by label.
    Reference: Holm (1979); Benjamini and Hochberg (1995); for subgroup AMCEs, Leeper,
    Hobolt and Tilley (2020), "Measuring subgroup preferences in conjoint experiments",
    Political Analysis 28(2).
    """
    labels = np.asarray(labels)
    if labels.shape != sums.n.shape:
        raise ValueError(
            f"labels has {labels.shape[0]} entries but sums has {sums.n.shape[0]} clusters; "
            "pass one subgroup label per annotator, in the order of the sums"
        )
    groups = np.unique(labels)
    effects = [attribute_effect_from_sums(sums.subset(labels == g), level=level) for g in groups]
    p = np.array([e.amce.p_value for e in effects])
    holm, bh = adjust_pvalues(p, method="holm"), adjust_pvalues(p, method="bh")
    return [
        SubgroupEffect(
            label=g.item() if hasattr(g, "item") else g,
            effect=e,
            p_holm=float(h),
            p_bh=float(b),
        )
        for g, e, h, b in zip(groups, effects, holm, bh, strict=True)
    ]


def cochran_q(*, effects: list[SubgroupEffect]) -> WaldTest:
    """Cochran's Q test that the subgroup effects are equal.

    Q = sum_s w_s (tau_s - tau_bar)^2 with w_s = 1/se_s^2 and tau_bar the inverse-variance
    weighted mean; Q ~ chi2(S - 1) under homogeneity when the subgroups are independent
    (disjoint annotators) and the SEs are accurate. Subgroups without a finite SE are left
    out. ``coefficients`` holds tau_bar and ``cov`` its variance.
    Reference: Cochran (1954), "The combination of estimates from different experiments",
    Biometrics 10(1).
    """
    tau = np.array([e.effect.amce.point for e in effects])
    se = np.array([e.effect.amce.se for e in effects])
    ok = np.isfinite(se) & (se > 0)
    tau, w = tau[ok], 1.0 / se[ok] ** 2
    if tau.size < 2:
        nan = float("nan")
        return WaldTest(nan, 0, nan, np.array([nan]), np.array([[nan]]))
    pooled = float((w * tau).sum() / w.sum())
    q = float((w * (tau - pooled) ** 2).sum())
    df = int(tau.size - 1)
    return WaldTest(
        q, df, float(stats.chi2.sf(q, df)), np.array([pooled]), np.array([[1 / w.sum()]])
    )


def covariate_sums(*, sums: ClusterSums, covariates: np.ndarray) -> ClusterSums:
    """Sums for y = b0 + b1 (2L - 1) + gamma' (z_g - z_bar), z constant within annotator.

    Covariates are centred at their weighted mean over labels, so b0 - 1/2 stays the
    average effect. Per annotator, X_g'W_g X_g and X_g'W_g y_g follow from the 2x2 sums
    because z_g is constant within the annotator: no pass over labels is needed.
    """
    z = np.asarray(covariates, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    if z.shape[0] != sums.n.shape[0]:
        raise ValueError(
            f"covariates has {z.shape[0]} rows but sums has {sums.n.shape[0]} clusters; "
            "pass one row of covariates per annotator, in the order of the sums"
        )
    sw, sws = sums.xtwx[:, 0, 0], sums.xtwx[:, 0, 1]
    z = z - (sw[:, None] * z).sum(0) / sw.sum()
    g, q = z.shape
    k = 2 + q
    a = np.zeros((g, k, k))
    a[:, :2, :2] = sums.xtwx
    a[:, 0, 2:] = a[:, 2:, 0] = sw[:, None] * z
    a[:, 1, 2:] = a[:, 2:, 1] = sws[:, None] * z
    a[:, 2:, 2:] = sw[:, None, None] * z[:, :, None] * z[:, None, :]
    c = np.concatenate([sums.xtwy, sums.xtwy[:, :1] * z], axis=1)
    return ClusterSums(xtwx=a, xtwy=c, n=sums.n)


def heterogeneity_wald(*, sums: ClusterSums, covariates: np.ndarray) -> WaldTest:
    """Cluster-robust Wald test that the effect does not vary with annotator covariates.

    Estimand: gamma in the weighted regression y = b0 + b1 (2L - 1) + gamma' (z - z_bar)
    (weights 1/propensity, z the annotator's covariates, centred), i.e. the linear change
    of P(prefer treated) with each covariate. Tests gamma = 0 with W = gamma' V^-1 gamma ~
    chi2(q), V the CR1 covariance by annotator (statsmodels' ``wald_test(...,
    use_f=False)`` on ``WLS(...).fit(cov_type='cluster')``). Assumes pre-treatment
    covariates, independent annotators, and enough annotators (G >> q) for the sandwich.
    Reference: Cameron and Miller (2015), J. Human Resources 50(2), section VII.
    """
    fit = wls_from_sums(covariate_sums(sums=sums, covariates=covariates))
    gamma, v = fit.params[2:], fit.cov[2:, 2:]
    if not np.all(np.isfinite(v)):
        nan = float("nan")
        return WaldTest(nan, int(gamma.size), nan, gamma, v)
    w = float(gamma @ np.linalg.solve(v, gamma))
    return WaldTest(w, int(gamma.size), float(stats.chi2.sf(w, gamma.size)), gamma, v)
