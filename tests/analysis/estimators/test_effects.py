import numpy as np
import pytest
import statsmodels.api as sm

from analysis.estimators.effects import attribute_effect
from analysis.estimators.sums import attribute_effect_from_sums, cluster_sums
from analysis.estimators.wls import wls_cluster


def _simulate(rng, *, n_annotators=60, per=20, tau=0.1, delta=0.05, sd_annotator=0.1):
    """Binary preferences with a planted effect tau, position bias delta and annotator
    random intercepts; propensities vary so the weights matter."""
    annotator = np.repeat(np.arange(n_annotators), per)
    left = rng.random(annotator.size) < 0.5
    shift = rng.normal(0, sd_annotator, n_annotators)[annotator]
    p = np.clip(0.5 + tau + delta * (2 * left - 1) + shift, 0.01, 0.99)
    y = (rng.random(annotator.size) < p).astype(float)
    propensity = rng.uniform(0.2, 1.0, annotator.size) / 10
    return y, left, propensity, annotator


@pytest.mark.parametrize("seed", range(5))
def test_matches_statsmodels_wls_cluster(seed):
    rng = np.random.default_rng(seed)
    y, left, e, g = _simulate(rng, n_annotators=30 + seed)
    y[rng.random(y.size) < 0.1] = 0.5  # ties counted as half
    ours = attribute_effect(outcome=y, treated_on_left=left, propensity=e, annotator=g)
    x = np.column_stack([np.ones_like(y), 2.0 * left - 1])
    ref = sm.WLS(y, x, weights=1 / e).fit(cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose(
        [ours.amce.point + 0.5, ours.position_bias.point], ref.params, rtol=1e-8
    )
    np.testing.assert_allclose([ours.amce.se, ours.position_bias.se], ref.bse, rtol=1e-8)
    np.testing.assert_allclose(ours.position_bias.p_value, ref.pvalues[1], rtol=1e-8)
    ci = ref.conf_int()
    np.testing.assert_allclose(
        [ours.position_bias.ci_low, ours.position_bias.ci_high], ci[1], rtol=1e-8
    )
    np.testing.assert_allclose([ours.amce.ci_low + 0.5, ours.amce.ci_high + 0.5], ci[0], rtol=1e-8)
    assert ours.n == y.size and ours.n_clusters == len(np.unique(g))


def test_general_design_matrix_matches_statsmodels():
    rng = np.random.default_rng(7)
    n = 400
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    y = x @ [0.3, -0.2, 0.5] + rng.normal(size=n)
    w = rng.uniform(0.5, 2, n)
    g = rng.integers(0, 25, n)
    ours = wls_cluster(x, y, w, g)
    ref = sm.WLS(y, x, weights=w).fit(cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose(ours.params, ref.params, rtol=1e-8)
    np.testing.assert_allclose(ours.cov, ref.cov_params(), rtol=1e-8)


def test_one_cluster_has_no_variance():
    fit = attribute_effect(
        outcome=np.array([1.0, 0, 1]),
        treated_on_left=np.array([1, 0, 1]),
        propensity=np.full(3, 0.5),
        annotator=np.zeros(3),
    )
    assert np.isnan(fit.amce.se) and np.isnan(fit.amce.p_value)


def test_planted_effect_is_covered_at_nominal_rate():
    rng = np.random.default_rng(11)
    tau, delta, reps = 0.08, 0.04, 300
    covered_tau = covered_delta = 0
    for _ in range(reps):
        y, left, e, g = _simulate(rng, tau=tau, delta=delta)
        fit = attribute_effect(outcome=y, treated_on_left=left, propensity=e, annotator=g)
        covered_tau += fit.amce.ci_low <= tau <= fit.amce.ci_high
        covered_delta += fit.position_bias.ci_low <= delta <= fit.position_bias.ci_high
    # 95% intervals: with 300 replications the coverage should fall in about [0.92, 0.98].
    assert 0.92 <= covered_tau / reps <= 0.98
    assert 0.92 <= covered_delta / reps <= 0.98


@pytest.mark.parametrize("seed", range(3))
def test_sufficient_statistics_give_the_same_estimate(seed):
    rng = np.random.default_rng(100 + seed)
    y, left, e, g = _simulate(rng, n_annotators=25)
    direct = attribute_effect(outcome=y, treated_on_left=left, propensity=e, annotator=g)
    # Split the annotators in two batches and combine their sums, as a refresh would.
    first = g < 12
    _, a = cluster_sums(
        outcome=y[first], treated_on_left=left[first], propensity=e[first], annotator=g[first]
    )
    _, b = cluster_sums(
        outcome=y[~first], treated_on_left=left[~first], propensity=e[~first], annotator=g[~first]
    )
    combined = attribute_effect_from_sums(a + b)
    for name in ("amce", "position_bias"):
        ours, ref = getattr(combined, name), getattr(direct, name)
        np.testing.assert_allclose([ours.point, ours.se], [ref.point, ref.se], rtol=1e-10)
    assert (combined.n, combined.n_clusters) == (direct.n, direct.n_clusters)
