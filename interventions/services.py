"""Writes for the interventions app: imports, the built-in catalogue and generation
(planned in interventions.generation)."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from celery import current_app
from django.db import transaction

from interventions.catalogue import CATALOGUE, direction_sign
from interventions.checks import pair_check
from interventions.generation import GenerationFailed, stimulus_set_generate
from interventions.imports import ImportFailed, prompt_rows_parse
from interventions.models import Intervention, Prompt, Response, Stimulus, StimulusSet
from interventions.pair_imports import pair_rows_parse

__all__ = [
    "GenerationFailed",
    "interventions_install_builtin",
    "prompts_import",
    "stimulus_pairs_import",
    "stimulus_set_generate",
    "stimulus_set_generation_enqueue",
    "stimulus_set_generation_failed",
]

logger = logging.getLogger(__name__)

GENERATE_TASK = "interventions.generate_stimuli"


@dataclass(frozen=True)
class ImportSummary:
    prompts: int
    responses: int


def prompts_import(*, lines: Iterable[str | bytes], source: str) -> ImportSummary:
    """Import prompts and their responses, all or nothing.

    Raises ImportFailed (naming line and field) for a malformed file or for prompt ids
    this source already has; in either case nothing is written.
    """
    if not source.strip():
        raise ImportFailed(["the import needs a source name (for example the file name)"])
    rows = prompt_rows_parse(lines)
    with transaction.atomic():
        existing = set(
            Prompt.objects.filter(
                source=source, external_id__in=[r.prompt_id for r in rows]
            ).values_list("external_id", flat=True)
        )
        if existing:
            raise ImportFailed(
                [
                    f"line {r.line}: field 'prompt_id' '{r.prompt_id}' was already imported "
                    f"from source '{source}'; remove the line or use another source name"
                    for r in rows
                    if r.prompt_id in existing
                ]
            )
        prompts = Prompt.objects.bulk_create(
            Prompt(source=source, external_id=r.prompt_id, category=r.category, text=r.prompt)
            for r in rows
        )
        responses = Response.objects.bulk_create(
            Response(
                prompt=prompt,
                text=text,
                model_name=model,
                origin=Response.Origin.IMPORTED,
            )
            for prompt, row in zip(prompts, rows, strict=True)
            for model, text in row.responses.items()
        )
    return ImportSummary(prompts=len(prompts), responses=len(responses))


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


@dataclass(frozen=True)
class PairImportSummary:
    stimulus_set: StimulusSet
    stimuli: int
    rejected: int


def stimulus_pairs_import(
    *,
    lines: Iterable[str | bytes],
    format: str,
    source: str,
    stimulus_set_name: str,
    intervention: str = "",
) -> PairImportSummary:
    """Import ready-made pairs as observational stimuli in a new stimulus set, all or
    nothing (ImportFailed names the line and field). Pairs whose intervention name is a
    known Intervention are held to its manipulation check; others pass as imported."""
    if not source.strip() or not stimulus_set_name.strip():
        raise ImportFailed(["the import needs a source name and a stimulus set name"])
    rows = pair_rows_parse(lines, format=format, intervention=intervention)
    known = {
        iv.name: iv for iv in Intervention.objects.filter(name__in={r.intervention for r in rows})
    }
    with transaction.atomic():
        if StimulusSet.objects.filter(name=stimulus_set_name).exists():
            raise ImportFailed(
                [f"a stimulus set named '{stimulus_set_name}' exists; choose another name"]
            )
        if Prompt.objects.filter(source=source).exists():
            raise ImportFailed([f"source '{source}' was already imported; use another source name"])
        stimulus_set = StimulusSet.objects.create(
            name=stimulus_set_name,
            response_source=source,
            seed=0,
            description=f"Imported pairs ({format}).",
            generation_status=StimulusSet.GenerationStatus.DONE,
        )
        prompts = Prompt.objects.bulk_create(
            Prompt(source=source, external_id=r.prompt_id, text=r.prompt) for r in rows
        )
        stimuli = []
        for prompt, row in zip(prompts, rows, strict=True):
            control, treated = Response.objects.bulk_create(
                Response(prompt=prompt, text=text, model_name=f"{format}:{side}",
                         origin=Response.Origin.IMPORTED)
                for side, text in (("control", row.control), ("treated", row.treated))
            )  # fmt: skip
            stimuli.append(_imported_stimulus(stimulus_set, prompt, control, treated, row, known))
        Stimulus.objects.bulk_create(stimuli)
    rejected = sum(s.check_status == Stimulus.CheckStatus.REJECTED for s in stimuli)
    return PairImportSummary(stimulus_set, len(stimuli), rejected)


def _imported_stimulus(stimulus_set, prompt, control, treated, row, known) -> Stimulus:
    intervention = known.get(row.intervention)
    check = pair_check(
        control=row.control,
        treated=row.treated,
        measure=intervention.check_measure if intervention else "words",
        threshold=intervention.check_threshold if intervention else float("-inf"),
        direction=direction_sign(intervention.parameters) if intervention else 1,
        tolerances=intervention.tolerances if intervention else {},
    )
    passed = check.result.passed or (
        intervention is None and "unchanged" not in check.result.reason
    )
    return Stimulus(
        stimulus_set=stimulus_set,
        prompt=prompt,
        control=control,
        treated=treated,
        cell=row.intervention,
        treatment={row.intervention: 1},
        provenance=Stimulus.Provenance.OBSERVATIONAL,
        measures_control=check.measures_control,
        measures_treated=check.measures_treated,
        check_status=Stimulus.CheckStatus.PASSED if passed else Stimulus.CheckStatus.REJECTED,
        check_reason="" if passed else check.result.reason,
        details=row.details,
    )
