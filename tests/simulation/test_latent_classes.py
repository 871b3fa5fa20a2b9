"""Latent classes find two planted groups of opposite taste that no recorded covariate
marks (the shipped hidden-classes population), and find one where there is one."""

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.estimators.latent_classes import latent_class_logit, latent_classes_select
from simulation.population import LEFT, TIE, annotators_draw, choices_draw
from simulation.population_file import BUILTIN, population_load


def _labels(population, g, per, rng):
    """Labels of length-longer and markdown-add pairs, design [length, markdown, side]."""
    drawn = annotators_draw(population, g, rng)
    who = np.repeat(np.arange(g), per)
    arm = rng.integers(0, 2, who.size)
    left = rng.random(who.size) < 0.5
    side = np.where(left, 1.0, -1.0)
    diff = np.zeros((who.size, len(population.attributes)))
    diff[np.arange(who.size), arm] = side  # length is attribute 0, markdown 1
    choice = choices_draw(population, drawn, who, diff, rng)
    y = np.where(choice == TIE, 0.5, ((choice == LEFT) == left).astype(float))
    design = np.column_stack([arm == 0, arm == 1, side]).astype(float)
    return y, design, who, drawn


def test_two_hidden_classes_are_found_and_annotators_classified():
    population = population_load(BUILTIN / "hidden-classes.toml")
    rng = np.random.default_rng(12)
    y, design, who, drawn = _labels(population, 300, 20, rng)
    # The pooled length effect hides both classes.
    pooled = latent_class_logit(outcome=y, design=design, annotator=who, k=1, rng=rng)
    assert abs(pooled.coefficients[0, 0]) < 0.2
    selection = latent_classes_select(outcome=y, design=design, annotator=who, rng=rng)
    best = selection.best
    accuracy = (best.posterior.argmax(1) == (drawn.covariates["reader"] == "thorough")).mean()
    print(
        "BIC by K:", [round(f.bic, 1) for f in selection.fits],
        "length by class:", best.coefficients[:, 0].round(3),
        "shares:", best.weights.round(3), "annotators classified right:", accuracy,
    )  # fmt: skip
    assert best.k == 2, [f.bic for f in selection.fits]
    # Planted length tastes -1.2 and +1.2 (lapses of 2% shrink them a little); markdown
    # +0.3 in both classes; shares one half each.
    np.testing.assert_allclose(best.coefficients[:, 0], [-1.2, 1.2], atol=0.25)
    np.testing.assert_allclose(best.coefficients[:, 1], [0.3, 0.3], atol=0.25)
    np.testing.assert_allclose(best.weights, [0.5, 0.5], atol=0.08)
    assert np.array_equal(best.annotators, np.arange(300))
    assert accuracy > 0.9


def test_one_class_is_chosen_when_tastes_are_shared():
    population = population_load(BUILTIN / "indifferent.toml")
    rng = np.random.default_rng(5)
    y, design, who, _ = _labels(population, 200, 20, rng)
    selection = latent_classes_select(
        outcome=y, design=design, annotator=who, rng=rng, max_classes=3, starts=4
    )
    assert selection.best.k == 1


def test_one_class_is_the_pooled_logit_of_statsmodels():
    population = population_load(BUILTIN / "expertise.toml")
    rng = np.random.default_rng(8)
    y, design, who, _ = _labels(population, 80, 10, rng)
    binary = y != 0.5
    fit = latent_class_logit(
        outcome=y[binary], design=design[binary], annotator=who[binary], k=1, rng=rng
    )
    reference = sm.Logit(y[binary], design[binary]).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(fit.coefficients[0], reference.params, rtol=1e-8)
    assert fit.log_likelihood == pytest.approx(reference.llf, rel=1e-10)
    with pytest.raises(ValueError, match="3 classes need at least 3 annotators"):
        latent_class_logit(outcome=y[:4], design=design[:4], annotator=np.zeros(4), k=3, rng=rng)
