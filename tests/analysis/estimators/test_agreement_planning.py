import krippendorff
import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower

from analysis.estimators.agreement import annotator_quality, krippendorff_alpha
from analysis.estimators.planning import design_effect, icc_oneway, labels_needed, power


def _replicated(rng, n_units=40, n_raters=6, n_values=3, missing=0.3):
    """A reliability matrix (raters x units) with a shared truth per unit, NaN missing."""
    truth = rng.integers(0, n_values, n_units)
    noisy = rng.random((n_raters, n_units)) < 0.35
    data = np.where(noisy, rng.integers(0, n_values, (n_raters, n_units)), truth).astype(float)
    data[rng.random(data.shape) < missing] = np.nan
    return data


def _long(data):
    rater, unit = np.nonzero(~np.isnan(data))
    return rater, unit, data[rater, unit]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("level", ["nominal", "ordinal"])
def test_krippendorff_alpha_matches_the_krippendorff_package(seed, level):
    rng = np.random.default_rng(seed)
    data = _replicated(rng, n_values=3 if level == "nominal" else 5)
    data[:, 0] = np.nan
    data[0, 0] = 1  # a unit with one label: not pairable
    _, unit, value = _long(data)
    ours = krippendorff_alpha(unit=unit, value=value, level=level)
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    np.testing.assert_allclose(ours, ref, rtol=1e-8)


def test_perfect_agreement_gives_alpha_one():
    unit = np.array([0, 0, 1, 1, 2, 2])
    value = np.array([1, 1, 0, 0, 2, 2])
    assert krippendorff_alpha(unit=unit, value=value, level="nominal") == pytest.approx(1.0)


def test_annotator_quality_counts_checks_and_leave_one_out_majority():
    annotator = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 3])
    unit = np.array([5, 5, 5, 6, 6, 6, 7, 7, 7, 8])
    value = np.array([1, 1, 0, 0, 1, 2, 1, 1, 1, 0])
    is_check = unit == 7
    correct = np.where(is_check, 1, -1)
    correct[8] = 1
    value[8] = 0  # annotator 2 fails the check
    q = annotator_quality(
        annotator=annotator, unit=unit, value=value, is_check=is_check, correct_value=correct
    )
    np.testing.assert_array_equal(q.annotator, [0, 1, 2, 3])
    np.testing.assert_array_equal(q.n_checks, [1, 1, 1, 0])
    np.testing.assert_allclose(q.check_accuracy[:3], [1, 1, 0])
    assert np.isnan(q.check_accuracy[3])
    # Unit 5: others of 0 are {1, 0} (tied, not compared); of 1 {1, 0} tied; of 2 {1, 1}: 0 != 1.
    # Unit 6: all three differ, so every leave-one-out majority is tied. Unit 8: alone.
    np.testing.assert_array_equal(q.n_compared, [0, 0, 1, 0])
    np.testing.assert_allclose(q.majority_agreement[2], 0.0)


@pytest.mark.parametrize(
    ("effect", "n", "m", "icc"), [(0.05, 400, 1, 0), (0.1, 1000, 20, 0.05), (-0.03, 5000, 50, 0.1)]
)
def test_power_matches_normal_ind_power_with_design_effect(effect, n, m, icc):
    deff = design_effect(labels_per_annotator=m, icc=icc)
    ref = NormalIndPower().power(effect_size=abs(effect) / 0.5, nobs1=n / deff, alpha=0.05, ratio=0)
    ours = power(effect=effect, n_labels=n, labels_per_annotator=m, icc=icc)
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


@pytest.mark.parametrize(
    ("effect", "target", "m", "icc"), [(0.05, 0.8, 1, 0), (0.1, 0.9, 20, 0.05)]
)
def test_labels_needed_matches_solve_power(effect, target, m, icc):
    plan = labels_needed(effect=effect, target_power=target, labels_per_annotator=m, icc=icc)
    n_eff = NormalIndPower().solve_power(
        effect_size=effect / 0.5, alpha=0.05, power=target, ratio=0
    )
    np.testing.assert_allclose(plan.labels_exact, n_eff * plan.design_effect, rtol=1e-5)
    assert plan.labels == int(np.ceil(plan.labels_exact))
    assert plan.annotators == int(np.ceil(plan.labels / m))
    np.testing.assert_allclose(
        power(effect=effect, n_labels=plan.labels_exact, labels_per_annotator=m, icc=icc),
        target,
        rtol=1e-8,
    )


def test_icc_oneway_recovers_a_planted_intraclass_correlation():
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(2000), 10)
    y = rng.normal(0, np.sqrt(0.2), 2000)[g] + rng.normal(0, np.sqrt(0.8), g.size)
    assert icc_oneway(outcome=y, annotator=g) == pytest.approx(0.2, abs=0.02)
