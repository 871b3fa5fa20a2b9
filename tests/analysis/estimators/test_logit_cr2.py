import numpy as np
import pytest
import statsmodels.api as sm

from analysis.estimators.effects import attribute_effect
from analysis.estimators.logit import (
    logit_cluster,
    logit_effect,
    logit_fit_from_counts,
    side_counts,
)
from analysis.estimators.sums import cluster_sums, wls_from_sums
from analysis.estimators.wls import wls_cluster
from tests.analysis.estimators.simdata import simulate_labels


def _design(data):
    return np.column_stack([np.ones(data["outcome"].size), 2.0 * data["treated_on_left"] - 1])


@pytest.mark.parametrize("seed", range(4))
def test_logit_effect_matches_statsmodels_logit_cluster(seed):
    data = simulate_labels(np.random.default_rng(seed), n_annotators=30 + 5 * seed, per=15)
    y, g = data["outcome"], data["annotator"]
    ref = sm.Logit(y, _design(data)).fit(
        disp=0, cov_type="cluster", cov_kwds={"groups": g}, method="newton", tol=1e-14
    )
    ours = logit_effect(outcome=y, treated_on_left=data["treated_on_left"], annotator=g)
    np.testing.assert_allclose(
        [ours.log_odds.point, ours.position_bias.point], ref.params, rtol=1e-8
    )
    np.testing.assert_allclose([ours.log_odds.se, ours.position_bias.se], ref.bse, rtol=1e-8)
    np.testing.assert_allclose(
        [ours.log_odds.p_value, ours.position_bias.p_value], ref.pvalues, rtol=1e-8
    )
    general = logit_cluster(_design(data), y, g)
    np.testing.assert_allclose(general.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(general.cov, ref.cov_params(), rtol=1e-8)
    assert general.converged and ours.n_clusters == len(np.unique(g))


def test_general_logit_with_covariates_and_fractional_ties_matches_statsmodels():
    rng = np.random.default_rng(4)
    n = 600
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ [0.2, 0.7, -0.4])))).astype(float)
    y[rng.random(n) < 0.1] = 0.5
    g = rng.integers(0, 40, n)
    ref = sm.Logit(y, x).fit(disp=0, cov_type="cluster", cov_kwds={"groups": g})
    ours = logit_cluster(x, y, g)
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(ours.cov, ref.cov_params(), rtol=1e-8)
    model_based = logit_cluster(x, y, vcov=None)
    nonrobust = sm.Logit(y, x).fit(disp=0)
    np.testing.assert_allclose(model_based.cov, nonrobust.cov_params(), rtol=1e-8)


def test_separation_is_reported_not_hidden():
    counts = side_counts(
        outcome=np.array([1.0, 1, 0, 1]),
        treated_on_left=np.array([1, 1, 0, 0]),
        annotator=np.array([0, 1, 0, 1]),
    )[1]
    fit = logit_fit_from_counts(counts)  # the treated response won every time it was left
    assert not fit.converged and np.all(np.isnan(fit.params))


def _cr2_brute_force(x, w, e, groups, bread):
    """Bell-McCaffrey CR2 from its definition with the m_g x m_g hat-matrix blocks."""
    k = x.shape[1]
    meat = np.zeros((k, k))
    for g in np.unique(groups):
        rows = groups == g
        xg, root_w = x[rows], np.sqrt(w[rows])
        h = (root_w[:, None] * xg) @ bread @ (root_w[:, None] * xg).T
        vals, vecs = np.linalg.eigh(np.eye(rows.sum()) - h)
        adjust = (vecs / np.sqrt(vals)) @ vecs.T
        score = (root_w[:, None] * xg).T @ adjust @ (root_w * e[rows])
        meat += np.outer(score, score)
    return bread @ meat @ bread


@pytest.mark.parametrize("seed", range(3))
def test_cr2_matches_its_definition_for_wls_sums_and_logit(seed):
    data = simulate_labels(np.random.default_rng(50 + seed), n_annotators=12, per=8)
    y, g, x = data["outcome"], data["annotator"], _design(data)
    w = 1 / data["propensity"]
    wls = wls_cluster(x, y, w, g, vcov="CR2")
    bread = np.linalg.inv(x.T @ (x * w[:, None]))
    expected = _cr2_brute_force(x, w, y - x @ wls.params, g, bread)
    np.testing.assert_allclose(wls.cov, expected, rtol=1e-8)
    _, sums = cluster_sums(
        **{k: data[k] for k in ("outcome", "treated_on_left", "propensity", "annotator")}
    )
    np.testing.assert_allclose(wls_from_sums(sums, vcov="CR2").cov, expected, rtol=1e-8)
    effect = attribute_effect(
        outcome=y,
        treated_on_left=data["treated_on_left"],
        propensity=data["propensity"],
        annotator=g,
        vcov="CR2",
    )
    np.testing.assert_allclose(effect.amce.se, np.sqrt(expected[0, 0]), rtol=1e-8)
    # CR2 inflates each score, so it exceeds the uncorrected (CR0) sandwich.
    n, n_g = y.size, len(np.unique(g))
    cr0 = wls_cluster(x, y, w, g).cov / (n_g / (n_g - 1) * (n - 1) / (n - 2))
    assert np.all(np.diag(wls.cov) > np.diag(cr0))

    fit = logit_cluster(x, y, g, vcov="CR2")
    p = 1 / (1 + np.exp(-(x @ fit.params)))
    wl = p * (1 - p)
    expected = _cr2_brute_force(x, wl, (y - p) / wl, g, np.linalg.inv(x.T @ (x * wl[:, None])))
    np.testing.assert_allclose(fit.cov, expected, rtol=1e-8)
    _, counts = side_counts(outcome=y, treated_on_left=data["treated_on_left"], annotator=g)
    np.testing.assert_allclose(logit_fit_from_counts(counts, vcov="CR2").cov, expected, rtol=1e-8)
