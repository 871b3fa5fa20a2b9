"""The model's preference for the treated side: equal to statsmodels' clustered mean."""

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.estimators.effects import Effect
from audit.preference import model_preference, preference_gap


@pytest.mark.parametrize("seed", range(3))
def test_model_preference_equals_statsmodels_ols_clustered_by_prompt(seed):
    rng = np.random.default_rng(seed)
    n = 300
    prompt = rng.integers(0, 40, n)
    treated = rng.normal(0.3, 1, n) + 0.2 * prompt / 40
    control = rng.normal(0, 1, n)
    control[:7] = treated[:7]  # equal scores count a half
    ours = model_preference(treated=treated, control=control, prompt=prompt)
    y = np.where(treated > control, 1.0, np.where(treated < control, 0.0, 0.5))
    theirs = sm.OLS(y, np.ones(n)).fit(cov_type="cluster", cov_kwds={"groups": prompt}, use_t=True)
    np.testing.assert_allclose(ours.point, theirs.params[0] - 0.5, rtol=1e-10)
    np.testing.assert_allclose(ours.se, theirs.bse[0], rtol=1e-8)
    low, high = theirs.conf_int()[0]
    np.testing.assert_allclose([ours.ci_low, ours.ci_high], [low - 0.5, high - 0.5], rtol=1e-8)
    assert ours.df == len(np.unique(prompt)) - 1


def test_one_prompt_gives_no_interval_and_order_alone_counts():
    one = model_preference(
        treated=np.array([2.0, 3.0]), control=np.array([1.0, 5.0]), prompt=np.array([1, 1])
    )
    assert one.point == 0.0 and not one.estimable
    # a monotone rescaling of the scores changes nothing
    rng = np.random.default_rng(1)
    t, c, p = rng.normal(size=50), rng.normal(size=50), np.arange(50) % 10
    a = model_preference(treated=t, control=c, prompt=p)
    b = model_preference(treated=np.exp(3 * t), control=np.exp(3 * c), prompt=p)
    assert (a.point, a.se) == (b.point, b.se)


def test_gap_adds_the_variances():
    model = Effect(0.30, 0.03, 0.24, 0.36, 0.0)
    people = Effect(0.05, 0.04, -0.03, 0.13, 0.2)
    gap = preference_gap(model, people)
    assert gap.point == pytest.approx(0.25)
    assert gap.se == pytest.approx(0.05)
    assert gap.ci_low == pytest.approx(0.25 - 1.959964 * 0.05, rel=1e-6)


def test_the_bradley_terry_scale_is_the_models_own_probability():
    rng = np.random.default_rng(4)
    t, c, p = rng.normal(size=80), rng.normal(size=80), np.arange(80) % 16
    ours = model_preference(treated=t, control=c, prompt=p, scale="bradley-terry")
    y = 1 / (1 + np.exp(-(t - c)))
    theirs = sm.OLS(y, np.ones(80)).fit(cov_type="cluster", cov_kwds={"groups": p}, use_t=True)
    np.testing.assert_allclose([ours.point, ours.se], [theirs.params[0] - 0.5, theirs.bse[0]])
    # Unlike the order, it depends on the size of the differences.
    half = model_preference(treated=t / 2, control=c / 2, prompt=p, scale="bradley-terry")
    assert abs(half.point) < abs(ours.point)
    with pytest.raises(ValueError, match="scale must be"):
        model_preference(treated=t, control=c, prompt=p, scale="logit")
