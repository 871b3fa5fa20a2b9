"""Writes for the interventions app: imports and stimulus generation."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from celery import current_app
from django.db import transaction

from interventions.checks import manipulation_check
from interventions.imports import ImportFailed, prompt_rows_parse
from interventions.measures import measure_all
from interventions.models import Intervention, Prompt, Response, Stimulus, StimulusSet
from interventions.transforms import transform_get

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


def _direction_sign(intervention: Intervention) -> int:
    return -1 if intervention.parameters.get("direction") in ("shorter", "less", "off") else 1


def _rng_for(stimulus_set: StimulusSet, base: Response, intervention: Intervention):
    # One stream per (set seed, base response, intervention): re-running generation, or
    # generating in another order, reproduces every text exactly.
    return np.random.default_rng([stimulus_set.seed, base.pk, intervention.pk])


def _stimulus_make(
    stimulus_set: StimulusSet, base: Response, intervention: Intervention
) -> Stimulus:
    module = transform_get(intervention.transform)
    params = dict(intervention.parameters)
    text = module.apply(base.text, rng=_rng_for(stimulus_set, base, intervention), **params)
    treated, _ = Response.objects.get_or_create(
        parent=base,
        generator=f"{module.NAME}@{module.VERSION}",
        parameters={**params, "seed": stimulus_set.seed},
        origin=Response.Origin.TRANSFORMED,
        defaults={"prompt_id": base.prompt_id, "text": text, "model_name": base.model_name},
    )
    control_measures = measure_all(base.text)
    treated_measures = measure_all(treated.text)
    if treated.text == base.text:
        passed, reason = False, "the transform left the text unchanged"
    else:
        check = manipulation_check(
            control=control_measures,
            treated=treated_measures,
            measure=intervention.check_measure,
            threshold=intervention.check_threshold,
            direction=_direction_sign(intervention),
            tolerances=intervention.tolerances,
        )
        passed, reason = check.passed, check.reason
    return Stimulus(
        stimulus_set=stimulus_set,
        prompt_id=base.prompt_id,
        control=base,
        treated=treated,
        cell=intervention.name,
        treatment={intervention.name: 1},
        provenance=Stimulus.Provenance.INTERVENTIONAL,
        measures_control=control_measures,
        measures_treated=treated_measures,
        check_status=Stimulus.CheckStatus.PASSED if passed else Stimulus.CheckStatus.REJECTED,
        check_reason=reason,
    )


def stimulus_set_generate(*, stimulus_set: StimulusSet, batch_size: int = 100) -> int:
    """Make one stimulus per base response and intervention; return how many were new.

    Idempotent: pairs already made (unique on set, control and cell) are skipped, so a
    re-run after a crash finishes the job and a second full run adds nothing.
    Progress is committed after every batch for the admin's progress column.
    """
    interventions = list(stimulus_set.interventions.order_by("pk"))
    bases = Response.objects.filter(
        origin=Response.Origin.IMPORTED, prompt__source=stimulus_set.response_source
    ).order_by("pk")
    if stimulus_set.response_model:
        bases = bases.filter(model_name=stimulus_set.response_model)
    work = [(base, iv) for base in bases for iv in interventions]
    done = set(stimulus_set.stimuli.values_list("control_id", "cell"))
    StimulusSet.objects.filter(pk=stimulus_set.pk).update(
        generation_status=StimulusSet.GenerationStatus.RUNNING,
        generation_total=len(work),
        generation_error="",
    )
    created = 0
    for start in range(0, len(work), batch_size):
        with transaction.atomic():
            batch = [
                _stimulus_make(stimulus_set, base, iv)
                for base, iv in work[start : start + batch_size]
                if (base.pk, iv.name) not in done
            ]
            Stimulus.objects.bulk_create(batch, ignore_conflicts=True)
            created += len(batch)
            StimulusSet.objects.filter(pk=stimulus_set.pk).update(
                generation_done=min(start + batch_size, len(work))
            )
    StimulusSet.objects.filter(pk=stimulus_set.pk).update(
        generation_status=StimulusSet.GenerationStatus.DONE
    )
    return created


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
