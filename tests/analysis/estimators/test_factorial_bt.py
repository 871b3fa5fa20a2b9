import numpy as np
import pytest
import statsmodels.api as sm

from analysis.estimators.bradley_terry import bradley_terry, style_features
from analysis.estimators.factorial import factorial_effects
from analysis.estimators.outcomes import preference_outcome


def _factorial_data(rng, n_annotators=50, per=24):
    annotator = np.repeat(np.arange(n_annotators), per)
    n = annotator.size
    # Three interventions; each pair applies one or two of them.
    patterns = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1]])
    t = patterns[rng.integers(0, len(patterns), n)]
    left = rng.random(n) < 0.5
    tau, inter = np.array([0.1, -0.05, 0.15]), -0.08
    p = 0.5 + t @ tau + inter * t[:, 0] * t[:, 1] + 0.03 * (2 * left - 1)
    p = p + rng.normal(0, 0.05, n_annotators)[annotator]
    y = (rng.random(n) < np.clip(p, 0.01, 0.99)).astype(float)
    return y, t, left, rng.uniform(0.1, 0.5, n), annotator


@pytest.mark.parametrize("seed", range(3))
def test_factorial_effects_match_statsmodels_wls(seed):
    y, t, left, e, g = _factorial_data(np.random.default_rng(seed))
    ours = factorial_effects(
        outcome=y,
        treatment=t,
        treated_on_left=left,
        propensity=e,
        annotator=g,
        names=["length", "markdown", "hedging"],
    )
    # length:markdown and length:hedging occur; markdown:hedging never does.
    assert ours.names == ("length", "markdown", "hedging", "length:markdown", "length:hedging")
    x = np.column_stack([t, t[:, 0] * t[:, 1], t[:, 0] * t[:, 2], 2.0 * left - 1])
    ref = sm.WLS(y - 0.5, x, weights=1 / e).fit(cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose([f.point for f in ours.effects], ref.params[:5], rtol=1e-8)
    np.testing.assert_allclose([f.se for f in ours.effects], ref.bse[:5], rtol=1e-8)
    np.testing.assert_allclose(ours.position_bias.point, ref.params[5], rtol=1e-8)
    np.testing.assert_allclose(ours["length:markdown"].p_value, ref.pvalues[3], rtol=1e-8)


def test_factorial_effects_need_one_name_per_column():
    y, t, left, e, g = _factorial_data(np.random.default_rng(0), n_annotators=5)
    with pytest.raises(ValueError, match="3 columns"):
        factorial_effects(
            outcome=y,
            treatment=t[:, :2],
            treated_on_left=left,
            propensity=e,
            annotator=g,
            names=["a", "b", "c"],
        )


def _battles(rng, n=3000):
    models = np.array(["alpha", "beta", "gamma", "delta"])
    strength = np.array([0.0, 0.4, -0.3, 0.8])
    ia, ib = rng.integers(0, 4, n), rng.integers(0, 4, n)
    ib = np.where(ia == ib, (ib + 1) % 4, ib)
    style_a = rng.poisson([300, 4], size=(n, 2))
    style_b = rng.poisson([300, 4], size=(n, 2))
    d = style_features(style_a=style_a, style_b=style_b)
    eta = strength[ia] - strength[ib] + d @ [0.5, 0.2]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    y[rng.random(n) < 0.08] = 0.5
    return models[ia], models[ib], y, style_a, style_b, d


@pytest.mark.parametrize("ties", ["half", "exclude"])
def test_bradley_terry_with_style_matches_statsmodels_logit(ties):
    a, b, y, sa, sb, _ = _battles(np.random.default_rng(1))
    ours = bradley_terry(
        model_a=a,
        model_b=b,
        outcome=y,
        style_a=sa,
        style_b=sb,
        style_names=["tokens", "headers"],
        ties=ties,
    )
    keep = y != 0.5 if ties == "exclude" else np.ones(y.size, bool)
    names = ["alpha", "beta", "delta", "gamma"]  # sorted; "alpha" is the reference
    x = np.stack([(a[keep] == m) * 1.0 - (b[keep] == m) for m in names[1:]], axis=1)
    x = np.column_stack([x, style_features(style_a=sa[keep], style_b=sb[keep])])
    ref = sm.Logit(y[keep], x).fit(disp=0, method="newton", tol=1e-14)
    assert ours.models == tuple(names) and ours.n == keep.sum()
    np.testing.assert_allclose(ours.strength[1:], ref.params[:3], rtol=1e-8)
    np.testing.assert_allclose(ours.strength_se[1:], ref.bse[:3], rtol=1e-8)
    np.testing.assert_allclose(ours.style, ref.params[3:], rtol=1e-8)
    np.testing.assert_allclose(ours.style_se, ref.bse[3:], rtol=1e-8)
    np.testing.assert_allclose(ours.elo()[0], 1000.0)
    # The planted order delta > beta > alpha > gamma is recovered.
    assert [ours.models[i] for i in np.argsort(-ours.strength)] == [
        "delta",
        "beta",
        "alpha",
        "gamma",
    ]


def test_style_features_are_normalised_differences_z_scored():
    a, b = np.array([[10.0], [0.0], [5.0]]), np.array([[0.0], [10.0], [5.0]])
    d = style_features(style_a=a, style_b=b)
    raw = np.array([10 / 11, -10 / 11, 0.0])
    np.testing.assert_allclose(d[:, 0], (raw - raw.mean()) / raw.std())


def test_preference_outcome_settings():
    chosen = np.array([True, False, False, True])
    tie = np.array([False, False, True, False])
    strength = np.array([3, 1, 2, 1])
    y, keep = preference_outcome(treated_chosen=chosen, tie=tie)
    np.testing.assert_array_equal(y, [1, 0, 0.5, 1])
    assert keep.all()
    y, keep = preference_outcome(
        treated_chosen=chosen,
        tie=tie,
        strength=strength,
        ties="exclude",
        strength_mode="graded",
        max_strength=3,
    )
    np.testing.assert_allclose(y, [1, 0.5 - 1 / 6, 0.5, 0.5 + 1 / 6])
    np.testing.assert_array_equal(keep, [True, True, False, True])
    with pytest.raises(ValueError, match="needs the strength"):
        preference_outcome(treated_chosen=chosen, tie=tie, strength_mode="graded")
