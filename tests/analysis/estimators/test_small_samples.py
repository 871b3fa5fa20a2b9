"""Honest small samples: Bell-McCaffrey degrees of freedom against their definition, the
annotator-weighted row against scipy's one-sample t-test, t references, and a vanishing
standard error reported as not estimable."""

import numpy as np
import pytest
from scipy import stats

from analysis.estimators.effects import t_effect
from analysis.estimators.sums import cluster_sums, row_effect
from analysis.estimators.wls import _sym_power, bell_mccaffrey_df
from tests.analysis.estimators.simdata import label_arrays, simulate_labels


def _bm_by_definition(x, w, groups, c):
    """(tr M)^2 / tr(M^2), M = Q'Q with the N x N hat matrix written out."""
    b = np.linalg.inv(x.T @ (x * w[:, None]))
    z = x * np.sqrt(w)[:, None]
    h = z @ b @ z.T
    eye = np.eye(len(w))
    columns = []
    for g in np.unique(groups):
        idx = np.where(groups == g)[0]
        adjust = _sym_power(eye[np.ix_(idx, idx)] - h[np.ix_(idx, idx)], -0.5)
        columns.append((eye - h)[:, idx] @ adjust @ z[idx] @ b @ c)
    q = np.array(columns).T
    m = q.T @ q
    return np.trace(m) ** 2 / np.trace(m @ m)


@pytest.mark.parametrize("seed", range(4))
def test_bell_mccaffrey_df_equals_its_definition(seed):
    rng = np.random.default_rng(seed)
    n, g = 80, int(rng.integers(3, 12))
    x = np.column_stack([np.ones(n), rng.choice([-1.0, 1.0], n)])
    w = rng.uniform(0.5, 3.0, n)
    groups = rng.integers(0, g, n)
    groups[:g] = np.arange(g)  # every cluster present
    bread = np.linalg.inv(x.T @ (x * w[:, None]))
    hessians = np.zeros((g, 2, 2))
    np.add.at(hessians, groups, (x * w[:, None])[:, :, None] * x[:, None, :])
    for c in (np.array([1.0, 0.0]), np.array([0.0, 1.0])):
        ours = bell_mccaffrey_df(bread=bread, hessians=hessians, contrast=c)
        assert ours == pytest.approx(_bm_by_definition(x, w, groups, c), rel=1e-8)
        assert 1.0 <= ours <= g - 1 + 1e-9  # never more than the clusters allow


def test_annotator_weighted_row_is_scipys_one_sample_t_test_on_annotator_means():
    rng = np.random.default_rng(5)
    data = simulate_labels(rng, n_annotators=14, per=7)
    data["propensity"] = np.ones_like(data["propensity"])  # weights 1, as the live path
    ids, sums = cluster_sums(**label_arrays(data))
    means = np.array([data["outcome"][data["annotator"] == a].mean() for a in ids])
    test = stats.ttest_1samp(means, 0.5)
    interval = test.confidence_interval(0.95)
    row = row_effect(sums, weighting="annotator")
    assert row.effect.point == pytest.approx(means.mean() - 0.5, rel=1e-12)
    assert row.effect.p_value == pytest.approx(test.pvalue, rel=1e-8)
    assert row.effect.ci_low == pytest.approx(interval.low - 0.5, rel=1e-8)
    assert row.effect.ci_high == pytest.approx(interval.high - 0.5, rel=1e-8)
    assert row.effect.df == len(ids) - 1


def test_label_weighted_row_uses_cr2_with_fewer_degrees_of_freedom_than_clusters():
    rng = np.random.default_rng(6)
    data = simulate_labels(rng, n_annotators=8, per=10)
    ids, sums = cluster_sums(**label_arrays(data))
    row = row_effect(sums, weighting="label")
    assert 1 < row.effect.df < len(ids) - 1
    q = stats.t(row.effect.df).ppf(0.975)
    assert row.effect.ci_high - row.effect.point == pytest.approx(q * row.effect.se, rel=1e-12)


@pytest.mark.parametrize("se", [0.0, 1e-16, float("nan")])
def test_a_vanishing_standard_error_is_not_estimable_never_p_zero(se):
    effect = t_effect(0.33, se, 0.0, 0.95, df=1.0)
    assert not effect.estimable
    assert np.isnan(effect.p_value) and np.isnan(effect.ci_low)
