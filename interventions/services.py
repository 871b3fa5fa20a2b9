"""Writes for the interventions app: imports (in interventions.import_services), the
built-in catalogue and generation (planned in interventions.generation)."""

import logging

from celery import current_app
from django.db import transaction

from interventions.catalogue import CATALOGUE
from interventions.generation import GenerationFailed, stimulus_set_generate
from interventions.import_services import (
    ImportSummary,
    PairImportSummary,
    prompts_import,
    stimulus_pairs_import,
)
from interventions.models import Intervention, StimulusSet

__all__ = [
    "GenerationFailed",
    "ImportSummary",
    "PairImportSummary",
    "builtin_missing",
    "interventions_install_builtin",
    "prompts_import",
    "stimulus_pairs_import",
    "stimulus_set_generate",
    "stimulus_set_generation_enqueue",
    "stimulus_set_generation_failed",
]

logger = logging.getLogger(__name__)

GENERATE_TASK = "interventions.generate_stimuli"


def stimulus_set_generation_failed(*, stimulus_set_id: int, error: str) -> None:
    StimulusSet.objects.filter(pk=stimulus_set_id).update(
        generation_status=StimulusSet.GenerationStatus.FAILED, generation_error=error
    )


def stimulus_set_generation_enqueue(*, stimulus_set: StimulusSet) -> None:
    """Queue generation on a worker once the caller's transaction commits."""
    StimulusSet.objects.filter(pk=stimulus_set.pk).update(
        generation_status=StimulusSet.GenerationStatus.QUEUED
    )
    transaction.on_commit(lambda: current_app.send_task(GENERATE_TASK, args=[stimulus_set.pk]))


def builtin_missing() -> int:
    """How many of the catalogue's interventions are not installed."""
    names = {spec.name for spec in CATALOGUE}
    return len(
        names - set(Intervention.objects.filter(name__in=names).values_list("name", flat=True))
    )


def interventions_install_builtin() -> int:
    """Create the catalogue's interventions that do not exist yet; return how many."""
    created = 0
    for spec in CATALOGUE:
        _, new = Intervention.objects.get_or_create(
            name=spec.name,
            defaults={
                "attribute": spec.attribute,
                "transform": spec.transform,
                "parameters": spec.parameters,
                "check_measure": spec.check_measure,
                "check_threshold": spec.check_threshold,
                "tolerances": spec.tolerances,
                "description": spec.description,
            },
        )
        created += new
    return created
