"""Population files: read, validated with errors that say what to fix, drawn as stated."""

import re

import numpy as np
import pytest

from simulation.population import (
    LEFT,
    TIE,
    annotators_draw,
    choices_draw,
    labels_before_abandoning,
    perceived_difference,
    planted_effect,
)
from simulation.population_file import (
    PopulationError,
    builtin_populations,
    population_load,
    population_parse,
)

BASE = """
name = "p"
[covariates.expertise]
type = "choice"
levels = ["little", "expert"]
probs = [0.7, 0.3]
[covariates.years]
type = "number"
mean = 10
sd = 4
min = 0
[preferences.length]
log_odds = 0.5
sd = 0.2
by.expertise = { expert = -1.0 }
by.years = 0.05
[behaviour]
position_bias = 0.3
noise = 0.4
lapse_rate = 0.1
tie_rate = 0.05
abandon_rate = 0.1
"""


def test_the_shipped_populations_parse():
    paths = builtin_populations()
    assert {p.stem for p in paths} >= {"expertise", "indifferent", "hidden-classes"}
    for path in paths:
        population = population_load(path)
        assert population.preferences and population.source.startswith("#")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("[preferences.length]", "[preferences.verbosity]"),
         "preferences.verbosity: unknown attribute; use one of length"),
        (lambda t: t.replace("probs = [0.7, 0.3]", "probs = [0.7, 0.7]"),
         "covariates.expertise.probs must be 2 non-negative numbers summing to 1"),
        (lambda t: t.replace("expert = -1.0", "guru = -1.0"),
         "preferences.length.by.expertise.guru: not a level of expertise (little, expert)"),
        (lambda t: t.replace("by.years", "by.age"),
         "preferences.length.by.age: no such covariate; declare [covariates.age] first"),
        (lambda t: t.replace("lapse_rate = 0.1", "lapse_rate = 1.5"),
         "behaviour.lapse_rate must be between 0 and 1, got 1.5"),
        (lambda t: t.replace("noise = 0.4", "nois = 0.4"), "behaviour: unknown key(s) nois"),
        (lambda t: t.replace('name = "p"', ""), "name is missing"),
        (lambda t: t + "\n[[", "not valid TOML"),
        (lambda t: t.replace('type = "number"', 'type = "date"'),
         "covariates.years.type must be 'choice' or 'number'"),
    ],
)  # fmt: skip
def test_invalid_files_say_what_to_fix(edit, message):
    with pytest.raises(PopulationError, match=re.escape(message)):
        population_parse(edit(BASE))


def test_draws_follow_the_stated_distributions_and_repeat_with_the_seed():
    population = population_parse(BASE)
    a = annotators_draw(population, 40_000, np.random.default_rng(3))
    b = annotators_draw(population, 40_000, np.random.default_rng(3))
    np.testing.assert_array_equal(a.taste, b.taste)
    expert = a.covariates["expertise"] == "expert"
    assert expert.mean() == pytest.approx(0.3, abs=0.01)
    assert a.covariates["years"].min() >= 0
    # taste = 0.5 - 1.0 [expert] + 0.05 (years - 10) + N(0, 0.2^2)
    residual = a.taste[:, 0] - 0.5 + 1.0 * expert - 0.05 * (a.covariates["years"] - 10)
    assert residual.mean() == pytest.approx(0.0, abs=0.01)
    assert residual.std() == pytest.approx(0.2, abs=0.01)
    given = labels_before_abandoning(population, 40_000, 20, np.random.default_rng(1))
    assert given.max() == 20 and given.mean() == pytest.approx((1 - 0.9**20) / 0.1, rel=0.02)


def test_perceived_difference_uses_the_relative_threshold():
    population = population_parse(BASE)
    assert perceived_difference(population, {"words": 115}, {"words": 100})[0] == 1
    assert perceived_difference(population, {"words": 100}, {"words": 114})[0] == 0
    assert perceived_difference(population, {"words": 50}, {"words": 100})[0] == -1


def test_simulated_choices_match_the_planted_effect():
    population = population_parse(BASE)
    rng = np.random.default_rng(5)
    drawn = annotators_draw(population, 200_000, rng)
    who = np.arange(200_000)
    treated_left = rng.random(who.size) < 0.5
    d = np.where(treated_left, 1.0, -1.0)[:, None]
    choice = choices_draw(population, drawn, who, d, rng)
    y = np.where(choice == TIE, 0.5, ((choice == LEFT) == treated_left).astype(float))
    truth = planted_effect(population, np.array([[1.0]]), seed=9)
    # 200,000 labels: the mean's standard error is about 0.5 / 447 = 0.0011.
    assert y.mean() - 0.5 == pytest.approx(truth, abs=0.004)
    assert (choice == TIE).mean() == pytest.approx(0.05, abs=0.003)
    assert truth > 0.02
