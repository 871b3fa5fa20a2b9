import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.estimators.confseq import annotator_means, normal_mixture_cs, rho_for_planned
from analysis.estimators.multiple import adjust_pvalues
from analysis.estimators.sums import cluster_sums
from tests.analysis.estimators.simdata import label_arrays, simulate_labels


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("method", "sm_method"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_pvalues_match_statsmodels(seed, method, sm_method):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.05, 3), rng.uniform(0, 1, 9 + seed)])
    p[2] = p[5]  # a tie in the ranks
    ours = adjust_pvalues(p, method=method)
    np.testing.assert_allclose(ours, multipletests(p, method=sm_method)[1], rtol=1e-8)


def test_adjusted_pvalues_skip_nan_and_reject_unknown_method():
    p = np.array([0.01, np.nan, 0.04, 0.03])
    ours = adjust_pvalues(p, method="holm")
    assert np.isnan(ours[1])
    np.testing.assert_allclose(ours[[0, 2, 3]], multipletests(p[[0, 2, 3]], method="holm")[1])
    with pytest.raises(ValueError, match="'holm' or 'bh'"):
        adjust_pvalues(p, method="hs")  # type: ignore[arg-type]


def _closed_form(x, alpha, rho, null):
    """Howard et al. (2021) eq. (14) written out independently, per prefix t."""
    t = np.arange(1, x.size + 1)
    v = t / 4
    s = np.cumsum(x)
    radius = np.sqrt((v + rho) * (np.log((v + rho) / rho) - 2 * np.log(alpha))) / t
    mixture = np.sqrt(rho / (v + rho)) * np.exp((s - t * null) ** 2 / (2 * (v + rho)))
    return s / t, radius, np.minimum(1, 1 / mixture)


@pytest.mark.parametrize(("alpha", "rho", "null"), [(0.05, 3.0, 0.5), (0.1, 40.0, 0.4)])
def test_confidence_sequence_matches_closed_form(alpha, rho, null):
    x = np.random.default_rng(3).beta(2, 1.5, 300)
    mean, radius, p = _closed_form(x, alpha, rho, null)
    for t in (1, 7, 50, 300):
        cs = normal_mixture_cs(values=x[:t], alpha=alpha, rho=rho, null=null)
        np.testing.assert_allclose(
            [cs.mean, cs.radius, cs.p_value], [mean[t - 1], radius[t - 1], p[t - 1]], rtol=1e-12
        )
        np.testing.assert_allclose([cs.low, cs.high], [cs.mean - cs.radius, cs.mean + cs.radius])
        assert cs.t == t
        # The p-value and the sequence agree on whether the null is excluded.
        assert (cs.p_value <= alpha) == (not cs.low <= null <= cs.high)


def test_rho_for_planned_nearly_minimises_the_radius_at_the_planned_size():
    n = 500
    grid = np.geomspace(0.1, 1000, 4000)
    x = np.full(n, 0.5)
    radii = [normal_mixture_cs(values=x, rho=r).radius for r in grid]
    best = min(radii)
    ours = normal_mixture_cs(values=x, rho=rho_for_planned(n_planned=n)).radius
    assert best <= ours <= best * 1.005
    assert rho_for_planned(n_planned=n, alpha=0.01) < rho_for_planned(n_planned=n)


def test_confidence_sequence_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        normal_mixture_cs(values=np.array([0.2, 1.4]), rho=1.0)
    with pytest.raises(ValueError, match="rho_for_planned"):
        normal_mixture_cs(values=np.array([0.2]), rho=0.0)


def test_annotator_means_are_weighted_means_of_each_annotator():
    data = simulate_labels(np.random.default_rng(5), n_annotators=10, tie_rate=0.1)
    ids, sums = cluster_sums(**label_arrays(data))
    w = 1 / data["propensity"]
    expected = [
        np.average(data["outcome"][data["annotator"] == i], weights=w[data["annotator"] == i])
        for i in ids
    ]
    np.testing.assert_allclose(annotator_means(sums), expected, rtol=1e-12)
