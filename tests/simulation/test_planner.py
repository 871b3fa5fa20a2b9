"""The planner: power at a zero effect is alpha, intervals cover the planted truth, and
power grows with the study as it must."""

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from simulation.planner import arm_parse, plan
from simulation.population_file import BUILTIN, population_load


def test_power_at_a_zero_effect_is_alpha():
    population = population_load(BUILTIN / "indifferent.toml")
    arms = [arm_parse("length-longer", population)]
    result = plan(population, arms, annotators=[40], labels_per_annotator=[10], studies=2000)
    (cell,) = result.cells
    print(f"indifferent population, 40 x 10, 2,000 studies: rejection rate {cell.power:.4f}")
    assert cell.truth == pytest.approx(0.0, abs=1e-12)
    # 2,000 studies: the rejection rate's standard error at 0.05 is 0.005.
    assert 0.035 <= cell.power <= 0.065, cell


@pytest.mark.parametrize("weighting", ["label", "annotator"])
def test_intervals_cover_the_planted_effect(weighting):
    population = population_load(BUILTIN / "expertise.toml")
    arms = [arm_parse("length-longer", population), arm_parse("hedging-more", population)]
    result = plan(
        population, arms, annotators=[60], labels_per_annotator=[12], studies=1000,
        weighting=weighting, seed=3,
    )  # fmt: skip
    for cell in result.cells:
        print(f"{weighting}-weighted {cell.arm}: truth {cell.truth:+.4f}, mean estimate "
              f"{cell.mean_estimate:+.4f}, coverage {cell.coverage:.3f}")  # fmt: skip
        # 1,000 studies: coverage's standard error at 0.95 is 0.007.
        assert 0.93 <= cell.coverage <= 0.97, cell
        assert cell.mean_estimate == pytest.approx(cell.truth, abs=0.01), cell


def test_power_and_width_improve_with_size_and_the_cheapest_sufficient_size_is_chosen():
    population = population_load(BUILTIN / "expertise.toml")
    arms = [arm_parse("markdown-add", population)]
    result = plan(
        population, arms, annotators=[30, 120, 300], labels_per_annotator=[10], studies=300
    )
    by_size = {c.annotators: c for c in result.cells}
    assert by_size[30].power < by_size[120].power < by_size[300].power
    assert by_size[30].ci_width > by_size[120].ci_width > by_size[300].ci_width
    best = result.recommend()
    assert best is not None and best.power >= 0.8
    assert all(c.power < 0.8 for c in result.cells if c.annotators < best.annotators)


def test_interventions_must_name_an_attribute_of_the_population():
    population = population_load(BUILTIN / "indifferent.toml")
    assert arm_parse("length-shorter", population).difference == (-1.0, 0.0)
    assert arm_parse("markdown:+1", population).difference == (0.0, 1.0)
    with pytest.raises(ValueError, match="has no taste for 'hedging'"):
        arm_parse("hedging-more", population)
    with pytest.raises(ValueError, match="write attribute-direction"):
        arm_parse("length-bigger", population)


def test_plan_command_prints_the_table_and_a_recommendation():
    out = io.StringIO()
    call_command(
        "plan", "--population", str(BUILTIN / "expertise.toml"), "--intervention",
        "length-longer", "--annotators", "40,400", "--labels", "10", "--studies", "200",
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "length-longer" in text and "coverage" in text
    assert "Recommended: 400 annotators x 10 labels" in text
    with pytest.raises(CommandError, match="no taste for 'politeness'"):
        call_command(
            "plan", "--population", str(BUILTIN / "expertise.toml"),
            "--intervention", "politeness-more", stdout=io.StringIO(),
        )  # fmt: skip


def test_power_matches_the_closed_form_when_annotators_are_alike():
    # No heterogeneity between annotators (ICC 0): the planner's simulated power must agree
    # with the design-effect formula of analysis.estimators.planning at deff 1.
    from analysis.estimators.planning import power
    from simulation.population_file import population_parse

    population = population_parse('name = "alike"\n[preferences.length]\nlog_odds = 0.2\n')
    arms = [arm_parse("length-longer", population)]
    result = plan(population, arms, annotators=[40], labels_per_annotator=[10], studies=1000)
    (cell,) = result.cells
    p = 0.5 + cell.truth
    expected = power(effect=cell.truth, n_labels=400, sd=float(np.sqrt(p * (1 - p))))
    print(f"simulated power {cell.power:.3f}, closed form {expected:.3f}")
    # 1,000 studies: the simulated power's standard error is at most 0.016.
    assert cell.power == pytest.approx(expected, abs=0.04)
