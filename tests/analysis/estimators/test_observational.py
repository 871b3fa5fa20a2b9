"""IPW and AIPW on observational pairs: equal to statsmodels on the same data, unbiased
under planted confounding where the naive difference is not."""

import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.treatment.treatment_effects import TreatmentEffect

from analysis.estimators.observational import (
    aipw_effect,
    e_value,
    ipw_effect,
    naive_effect,
    propensity_fit,
)

ATE = 0.1


def _confounded(rng, n=1000, ate=ATE):
    """x1 raises both the chance of treatment and the outcome: confounding. The outcome is
    linear in the covariates (so the AIPW outcome model is right) and lies in [0.1, 0.8]."""
    x1 = rng.uniform(-1, 1, n)
    x2 = (rng.random(n) < 0.5).astype(float)
    e = 1 / (1 + np.exp(-(-0.2 + 1.5 * x1 + 0.5 * x2)))
    t = (rng.random(n) < e).astype(float)
    y = (rng.random(n) < 0.4 + ate * t + 0.2 * x1 + 0.1 * x2).astype(float)
    groups = np.repeat(np.arange(n // 5), 5)  # five labels per annotator
    return y, t, np.column_stack([x1, x2]), groups


@pytest.mark.parametrize("seed", range(4))
def test_ipw_and_aipw_match_statsmodels(seed):
    y, t, x, _ = _confounded(np.random.default_rng(seed), n=600 + 100 * seed)
    exog = sm.add_constant(x)
    logit = sm.Logit(t, exog).fit(disp=0)
    np.testing.assert_allclose(propensity_fit(treatment=t, covariates=x), logit.params, rtol=1e-8)
    reference = TreatmentEffect(sm.OLS(y, exog), t, results_select=logit)
    for ours, theirs in (
        (ipw_effect(outcome=y, treatment=t, covariates=x), reference.ipw()),
        (aipw_effect(outcome=y, treatment=t, covariates=x), reference.aipw()),
    ):
        # statsmodels: (ATE, POM0, POM1) and their GMM standard errors.
        np.testing.assert_allclose(
            [ours.ate.point, ours.mean_control, ours.mean_treated], theirs.effect, rtol=1e-8
        )
        np.testing.assert_allclose(ours.ate.se, theirs.sd[0], rtol=1e-8)
    # The Hajek IPW estimate is the weighted GLM / WLS coefficient on t.
    e = logit.predict(exog)
    w = t / e + (1 - t) / (1 - e)
    design = sm.add_constant(t)
    glm = sm.GLM(y, design, family=sm.families.Gaussian(), var_weights=w).fit()
    wls = sm.WLS(y, design, weights=w).fit()
    ipw = ipw_effect(outcome=y, treatment=t, covariates=x)
    np.testing.assert_allclose(ipw.ate.point, glm.params[1], rtol=1e-8)
    np.testing.assert_allclose(ipw.ate.point, wls.params[1], rtol=1e-8)
    np.testing.assert_allclose(ipw.mean_control, glm.params[0], rtol=1e-8)


def test_planted_effect_under_confounding():
    rng = np.random.default_rng(2026)
    reps = 300
    points: dict[str, list[float]] = {"naive": [], "ipw": [], "aipw": []}
    covered = dict.fromkeys(points, 0)
    for _ in range(reps):
        y, t, x, groups = _confounded(rng)
        fits = {
            "naive": naive_effect(outcome=y, treatment=t),
            "ipw": ipw_effect(outcome=y, treatment=t, covariates=x, groups=groups).ate,
            "aipw": aipw_effect(outcome=y, treatment=t, covariates=x, groups=groups).ate,
        }
        for name, fit in fits.items():
            points[name].append(fit.point)
            covered[name] += fit.ci_low <= ATE <= fit.ci_high
    bias = {k: float(np.mean(v)) - ATE for k, v in points.items()}
    coverage = {k: v / reps for k, v in covered.items()}
    print("bias", bias, "coverage", coverage)
    # The naive difference carries x1's effect on the outcome: biased beyond its interval.
    assert bias["naive"] > 0.06 and coverage["naive"] < 0.2
    # Adjusted: bias within about three Monte Carlo standard errors (SD 0.035 / sqrt(300)).
    assert abs(bias["ipw"]) < 0.007 and abs(bias["aipw"]) < 0.007
    assert 0.92 <= coverage["ipw"] <= 0.98 and 0.92 <= coverage["aipw"] <= 0.98


def test_overlap_diagnostics_and_trimming():
    y, t, x, _ = _confounded(np.random.default_rng(3), n=2000)
    full = ipw_effect(outcome=y, treatment=t, covariates=x)
    o = full.overlap
    assert o.n_treated + o.n_control == 2000 and o.trimmed == 0
    assert 0 < o.propensity_treated[0] < o.propensity_treated[1] < 1
    assert 0 < o.ess_treated < o.n_treated and 0 < o.ess_control < o.n_control
    trimmed = ipw_effect(outcome=y, treatment=t, covariates=x, trim=0.2)
    assert trimmed.overlap.trimmed > 0 and trimmed.n == 2000 - trimmed.overlap.trimmed
    low = min(trimmed.overlap.propensity_treated[0], trimmed.overlap.propensity_control[0])
    assert low >= 0.15  # refitted on the kept units, so near but not exactly the cut
    # Equal propensities everywhere: every weight is equal, the ESS is the count.
    flat = ipw_effect(outcome=y, treatment=t, covariates=np.zeros((2000, 0)))
    assert flat.overlap.ess_treated == pytest.approx(flat.overlap.n_treated)


def test_e_value():
    # VanderWeele and Ding (2017): RR 3.9 has E-value 3.9 + sqrt(3.9 x 2.9) = 7.26.
    assert e_value(3.9) == pytest.approx(7.263, abs=1e-3)
    assert e_value(1 / 3.9) == pytest.approx(e_value(3.9))
    assert e_value(1.0) == 1.0
    y, t, x, _ = _confounded(np.random.default_rng(4), n=3000)
    fit = aipw_effect(outcome=y, treatment=t, covariates=x)
    assert fit.risk_ratio == pytest.approx(fit.mean_treated / fit.mean_control)
    assert 1 <= fit.e_value_ci <= fit.e_value
    assert fit.risk_ratio_ci[0] < fit.risk_ratio < fit.risk_ratio_ci[1]


def test_bad_input_is_refused_with_a_reason():
    x = np.arange(20.0)[:, None]
    t = (x[:, 0] > 9).astype(float)
    with pytest.raises(ValueError, match="separates treated from control units perfectly"):
        ipw_effect(outcome=np.ones(20) * 0.5, treatment=t, covariates=x)
    with pytest.raises(ValueError, match="both treated and control units are needed"):
        aipw_effect(outcome=np.ones(20), treatment=np.ones(20), covariates=x)
    with pytest.raises(ValueError, match="treatment must be 0 or 1"):
        ipw_effect(outcome=np.ones(20), treatment=np.full(20, 2.0), covariates=x)
