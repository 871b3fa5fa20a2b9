"""The simulated planner on the study's planning page: the same figures as the planner
itself for the study's interventions, with its recommendation; bad sizes are refused."""

import re

import pytest
from django.urls import reverse

from simulation.planner import arm_parse, plan
from simulation.population_file import BUILTIN, population_load
from tests.factories import researcher_make, stimulus_set_make, study_make


def _planning_page(client, username: str) -> str:
    owner = researcher_make(username)
    study = study_make(stimulus_set=stimulus_set_make(prompts=4), owner=owner)
    client.force_login(owner)
    return reverse("admin:collection_study_planning", args=[study.pk])


@pytest.mark.django_db
def test_the_planning_page_simulates_the_studys_interventions(client):
    url = _planning_page(client, "sim-planner")
    page = client.get(url).content.decode()
    assert 'id="simulated-plan-form"' in page and "simulated-plan-table" not in page
    asked = {"sim-population": "expertise", "sim-annotators": "40,120", "sim-labels": "10",
             "sim-studies": "100", "sim-power": "0.8"}  # fmt: skip
    page = client.get(url, asked).content.decode()
    population = population_load(BUILTIN / "expertise.toml")
    expected = plan(
        population, [arm_parse("length-longer", population)], annotators=[40, 120],
        labels_per_annotator=[10], studies=100, seed=population.seed or 0,
    )  # fmt: skip
    powers = re.findall(r'<th scope="row">length-longer</th><td>[^<]*</td><td>([0-9.]+)</td>', page)
    assert powers == [f"{c.power:.2f}" for c in expected.cells]
    best = expected.recommend()
    sentence = re.search(r'id="simulated-recommendation">(.*?)</p>', page, re.S).group(1)
    if best is None:
        assert "No size tried reaches" in sentence
    else:
        assert f"{best.annotators} annotators &times; 10 labels" in sentence


@pytest.mark.django_db
def test_bad_sizes_say_what_to_write_and_simulate_nothing(client):
    url = _planning_page(client, "sim-planner-2")
    for annotators, message in (("ten", "whole numbers"), ("1,50", "from 2 to 2000")):
        page = client.get(
            url, {"sim-population": "expertise", "sim-annotators": annotators,
                  "sim-labels": "10", "sim-studies": "100", "sim-power": "0.8"},
        ).content.decode()  # fmt: skip
        assert message in page and "simulated-plan-table" not in page
