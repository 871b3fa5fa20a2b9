"""The demonstration's qualitative findings, on its quick size (the README's tables come
from the full size: python manage.py demonstrate)."""

import numpy as np
from django.core.management import call_command

from simulation import demonstration as demo

SEED = 7  # not a seed the demonstration was tuned on (those were 0-2)


def _covers(effect, truth):
    return effect.ci_low <= truth <= effect.ci_high


def test_confounding_biases_the_naive_arm_and_randomisation_or_adjustment_does_not():
    r = demo.confounding(demo.QUICK, SEED)
    assert _covers(r.randomised, r.truth)
    assert r.naive.ci_low > r.truth  # biased beyond its interval
    for adjusted in (r.ipw, r.aipw):
        assert abs(adjusted.ate.point - r.truth) < abs(r.naive.point - r.truth)
        assert adjusted.overlap.ess_treated < adjusted.overlap.n_treated
    assert r.aipw.e_value > 1


def test_correlated_training_fails_out_of_distribution_and_the_audit_sees_length():
    rows = {r.training: r for r in demo.tangled(demo.QUICK, SEED)}
    correlated, crossed = rows["rho = 0.9"], rows["counterfactual (crossed)"]
    independent = rows["rho = 0"]
    assert correlated.reversed < crossed.reversed
    assert correlated.reversed < independent.reversed
    # In its own distribution the correlated model looks best: length is a fine proxy there.
    assert correlated.in_distribution > crossed.in_distribution
    assert correlated.length_preference.ci_low > crossed.length_preference.ci_high
    assert correlated.length_preference.point > 0.15


def test_hidden_classes_are_hidden_in_the_pool_and_found_by_subgroups_and_latent_classes():
    r = demo.heterogeneity(demo.QUICK, SEED)
    skimmer, thorough = r.subgroups
    assert skimmer.estimate.ci_high < 0 < thorough.estimate.ci_low
    # Each subgroup's estimate is near its planted truth (within 4 standard errors: over
    # 40 other seeds the 95% intervals covered it 90-97% of the time).
    for row in r.subgroups:
        assert abs(row.estimate.point - row.truth) < 4 * row.estimate.se
    assert abs(r.pooled.estimate.point) < abs(skimmer.estimate.point) / 3
    assert abs(r.pooled.truth) < 0.01
    assert r.classes == 2
    np.testing.assert_allclose(r.class_length_taste, [-1.2, 1.2], atol=0.35)
    assert r.classified_right > 0.85


def test_the_command_prints_the_parts_asked_for(capsys):
    # Part 1 alone here: the other parts take seconds, and their findings are checked
    # above on the same functions the command prints.
    call_command("demonstrate", "--quick", "--seed", str(SEED), "--part", "1")
    out = capsys.readouterr().out
    assert "## 1. Confounding" in out and "## 2." not in out and "## 3." not in out
    assert "| observational: naive difference |" in out and "**no**" in out
    assert "Overlap: propensity" in out
