"""Writes of the simulation app: a run and the effects it planted, in one transaction."""

import numpy as np
from django.db import transaction

from collection.models import Study
from interventions.models import Intervention, Stimulus
from simulation.models import PlantedEffect, SimulationRun
from simulation.perception import attributes_from_text
from simulation.population import Population, perceived_difference, planted_effect


def study_pairs_perceived(*, study: Study, population: Population) -> dict[str, np.ndarray]:
    """Intervention name -> the perceived treated-minus-control differences (pairs x
    attributes) of the study's servable single-intervention pairs (attention checks and
    factorial cells left out: the results page estimates single interventions)."""
    stimuli = Stimulus.objects.filter(
        stimulus_set__studies=study,
        check_status=Stimulus.CheckStatus.PASSED,
        is_attention_check=False,
    ).select_related("control", "treated")
    if study.require_approved:
        stimuli = stimuli.filter(review_status=Stimulus.ReviewStatus.APPROVED)
    out: dict[str, list[np.ndarray]] = {}
    for s in stimuli.distinct():
        if "+" in s.cell:
            continue
        treated = attributes_from_text(s.treated.text)
        control = attributes_from_text(s.control.text)
        out.setdefault(s.cell, []).append(perceived_difference(population, treated, control))
    return {name: np.array(rows) for name, rows in out.items()}


def simulation_run_create(
    *, study: Study, population: Population, seed: int, annotators: int, base_url: str
) -> SimulationRun:
    """Record the run and the effect it plants on each of the study's interventions:
    the population-average tau over the study's own pairs as annotators perceive them
    (``planted_effect``), so a pair whose treated side does not noticeably differ, or
    differs in another attribute too, counts as it will be judged."""
    pairs = study_pairs_perceived(study=study, population=population)
    if not pairs:
        raise ValueError(
            f"study {study.slug!r} has no servable single-intervention pairs to simulate on"
        )
    interventions = {i.name: i for i in Intervention.objects.filter(name__in=pairs)}
    with transaction.atomic():
        run = SimulationRun.objects.create(
            study=study,
            population_name=population.name,
            population_toml=population.source,
            seed=seed,
            annotators=annotators,
            base_url=base_url,
        )
        PlantedEffect.objects.bulk_create(
            PlantedEffect(
                run=run,
                intervention=interventions[name],
                effect=planted_effect(population, diffs, seed=seed + 1),
                pairs=len(diffs),
            )
            for name, diffs in sorted(pairs.items())
        )
    return run
