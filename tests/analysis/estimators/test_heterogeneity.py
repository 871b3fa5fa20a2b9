import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from analysis.estimators.effects import attribute_effect
from analysis.estimators.heterogeneity import cochran_q, heterogeneity_wald, subgroup_effects
from analysis.estimators.sums import cluster_sums
from tests.analysis.estimators.simdata import label_arrays, simulate_labels


def _data(seed, **kwargs):
    rng = np.random.default_rng(seed)
    kwargs.setdefault("tau_by_group", np.array([0.0, 0.1, 0.2]))
    return simulate_labels(rng, n_annotators=45, tie_rate=0.05, **kwargs)


@pytest.mark.parametrize("seed", range(3))
def test_subgroup_effects_match_per_subgroup_fits_and_multipletests(seed):
    data = _data(seed)
    ids, sums = cluster_sums(**label_arrays(data))
    found = subgroup_effects(sums=sums, labels=data["group"][ids])
    assert [s.label for s in found] == [0, 1, 2]
    for s in found:
        rows = data["group"][data["annotator"]] == s.label
        direct = attribute_effect(**{k: v[rows] for k, v in label_arrays(data).items()})
        np.testing.assert_allclose(
            [s.effect.amce.point, s.effect.amce.se, s.effect.amce.p_value],
            [direct.amce.point, direct.amce.se, direct.amce.p_value],
            rtol=1e-10,
        )
    p = [s.effect.amce.p_value for s in found]
    np.testing.assert_allclose(
        [s.p_holm for s in found], multipletests(p, method="holm")[1], rtol=1e-8
    )
    np.testing.assert_allclose(
        [s.p_bh for s in found], multipletests(p, method="fdr_bh")[1], rtol=1e-8
    )


def test_subgroup_labels_must_match_clusters():
    data = _data(0)
    _, sums = cluster_sums(**label_arrays(data))
    with pytest.raises(ValueError, match="one subgroup label per annotator"):
        subgroup_effects(sums=sums, labels=np.zeros(3))


@pytest.mark.parametrize("seed", range(3))
def test_wald_test_matches_statsmodels_on_centred_covariates(seed):
    data = _data(10 + seed)
    ids, sums = cluster_sums(**label_arrays(data))
    ours = heterogeneity_wald(sums=sums, covariates=data["covariates"][ids])
    # The same regression on the labels, with covariates expanded to label rows.
    w = 1 / data["propensity"]
    z = data["covariates"][data["annotator"]]
    z = z - np.average(z, axis=0, weights=w)
    x = np.column_stack([np.ones(z.shape[0]), 2.0 * data["treated_on_left"] - 1, z])
    fit = sm.WLS(data["outcome"], x, weights=w).fit(
        cov_type="cluster", cov_kwds={"groups": data["annotator"]}
    )
    ref = fit.wald_test(np.eye(5)[2:], use_f=False, scalar=True)
    np.testing.assert_allclose(ours.statistic, ref.statistic, rtol=1e-8)
    np.testing.assert_allclose(ours.p_value, ref.pvalue, rtol=1e-8)
    np.testing.assert_allclose(ours.coefficients, fit.params[2:], rtol=1e-8)
    np.testing.assert_allclose(ours.cov, fit.cov_params()[2:, 2:], rtol=1e-8)
    assert ours.df == 3


@pytest.mark.parametrize("seed", range(3))
def test_cochran_q_matches_statsmodels_meta_analysis(seed):
    data = _data(20 + seed)
    ids, sums = cluster_sums(**label_arrays(data))
    found = subgroup_effects(sums=sums, labels=data["group"][ids])
    ours = cochran_q(effects=found)
    tau = np.array([s.effect.amce.point for s in found])
    var = np.array([s.effect.amce.se for s in found]) ** 2
    ref = combine_effects(tau, var)
    np.testing.assert_allclose(ours.statistic, ref.q, rtol=1e-8)
    np.testing.assert_allclose(ours.coefficients[0], ref.mean_effect_fe, rtol=1e-8)
    assert ours.df == 2
