"""Stimulus generation: plan every treated text in memory, then write.

Planning runs the transforms (or LLM rewrites) and the manipulation checks; nothing
touches the database until the whole plan exists, so an LLM endpoint that fails half way
leaves no partial stimulus set. A factorial set plans one cell per non-empty subset of
its interventions, applying them in sequence (ordered by intervention id) and checking
each step against its own intervention: step k must move its target and keep every
other measure within tolerance relative to step k-1.
"""

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from django.db import transaction

from interventions.catalogue import OPPOSITE_DIRECTIONS, direction_sign, is_reversed
from interventions.checks import PairCheck, pair_check
from interventions.llm import ChatClient, LLMConfig, LLMError, instruction_for
from interventions.measures import measure_pair
from interventions.models import Intervention, Response, Stimulus, StimulusSet
from interventions.transforms import transform_get, transform_run

WRITE_BATCH = 200


class GenerationFailed(Exception):
    """Generation stopped before writing anything; the message says why."""


@dataclass
class Step:
    intervention: Intervention
    generator: str
    parameters: dict
    text: str
    details: dict
    check: PairCheck


@dataclass
class Plan:
    base: Response
    cell: tuple[Intervention, ...]
    steps: list[Step]


def cells_for(stimulus_set: StimulusSet, interventions: list[Intervention]):
    if stimulus_set.design != StimulusSet.Design.FACTORIAL:
        return [(iv,) for iv in interventions]
    return [c for k in range(1, len(interventions) + 1) for c in combinations(interventions, k)]


def cell_key(cell: tuple[Intervention, ...]) -> str:
    return "+".join(sorted(iv.name for iv in cell))


class Planner:
    """Makes the treated texts. Rule transforms are deterministic per (set seed, base,
    intervention sequence); LLM rewrites already stored are reused, never re-requested."""

    def __init__(self, stimulus_set: StimulusSet):
        self.stimulus_set = stimulus_set
        self._memo: dict[tuple, tuple[str, dict]] = {}
        self._clients: dict[LLMConfig, ChatClient] = {}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()

    def _generator(self, iv: Intervention) -> str:
        if iv.backend == Intervention.Backend.LLM:
            return f"llm:{iv.attribute}@{self._llm(iv).config.model}"
        module = transform_get(iv.transform)
        return f"{module.NAME}@{module.VERSION}"

    def _llm(self, iv: Intervention) -> ChatClient:
        """One client per endpoint: the settings', or the intervention's own
        (``parameters['llm']``)."""
        config = LLMConfig.from_settings(iv.parameters.get("llm"))
        if config not in self._clients:
            self._clients[config] = ChatClient(config)
        return self._clients[config]

    def _make(self, iv: Intervention, text: str, path: tuple[int, ...]) -> tuple[str, dict]:
        params = dict(iv.parameters)
        if is_reversed(params):  # the opposite direction's edit makes the control
            del params["reverse"]
            params["direction"] = OPPOSITE_DIRECTIONS[str(params.get("direction"))]
        if iv.backend == Intervention.Backend.LLM:
            instruction = instruction_for(
                attribute=iv.attribute,
                direction=str(params.get("direction", "")),
                override=iv.llm_instruction,
            )
            return self._llm(iv).rewrite(text=text, instruction=instruction), {}
        # One stream per (set seed, base, intervention sequence): re-running, or running
        # in another order, reproduces every text exactly.
        rng = np.random.default_rng([self.stimulus_set.seed, *path])
        return transform_run(iv.transform, text, rng=rng, parameters=params)

    def plan(self, base: Response, cell: tuple[Intervention, ...]) -> Plan:
        text, steps = base.text, []
        path: tuple[int, ...] = (base.pk,)
        parent: Response | None = base
        for iv in cell:
            path = (*path, iv.pk)
            generator = self._generator(iv)
            parameters = {**iv.parameters, "seed": self.stimulus_set.seed}
            stored = (
                Response.objects.filter(
                    parent=parent, generator=generator, parameters=parameters
                ).first()
                if parent is not None and iv.backend == Intervention.Backend.LLM
                else None
            )
            key = (path, text)
            details: dict
            if stored is not None:
                new, details = stored.text, {}
            elif key not in self._memo:
                self._memo[key] = self._make(iv, text, path)
                new, details = self._memo[key]
            else:
                new, details = self._memo[key]
            # A reversed pair is checked as it is shown: the transformed text is the control.
            control, treated = (new, text) if is_reversed(iv.parameters) else (text, new)
            check = pair_check(
                control=control,
                treated=treated,
                measure=iv.check_measure,
                threshold=iv.check_threshold,
                direction=direction_sign(iv.parameters),
                tolerances=iv.tolerances,
            )
            steps.append(Step(iv, generator, parameters, new, details, check))
            text, parent = new, stored
        return Plan(base, cell, steps)


def _stimulus_write(stimulus_set: StimulusSet, plan: Plan) -> Stimulus:
    parent = plan.base
    for step in plan.steps:
        parent, _ = Response.objects.get_or_create(
            parent=parent,
            generator=step.generator,
            parameters=step.parameters,
            origin=Response.Origin.TRANSFORMED,
            defaults={
                "prompt_id": plan.base.prompt_id,
                "text": step.text,
                "model_name": plan.base.model_name,
            },
        )
    control, treated = plan.base, parent
    details = {s.intervention.name: s.details for s in plan.steps if s.details}
    if any(is_reversed(iv.parameters) for iv in plan.cell):
        control, treated = parent, plan.base
        (iv,) = plan.cell
        opposite = OPPOSITE_DIRECTIONS[str(iv.parameters.get("direction"))]
        details[iv.name] = {
            "reversed": True,
            "control": f"the original answer with the {iv.transform} transform applied "
            f"in the direction {opposite!r}",
            "treated": "the original answer",
        }
    measures_control, measures_treated = measure_pair(control.text, treated.text)
    failed = [s for s in plan.steps if not s.check.result.passed]
    reason = ""
    if failed:
        reason = failed[0].check.result.reason
        if len(plan.steps) > 1:
            reason = f"{failed[0].intervention.name}: {reason}"
    return Stimulus(
        stimulus_set=stimulus_set,
        prompt_id=plan.base.prompt_id,
        control=control,
        treated=treated,
        cell=cell_key(plan.cell),
        treatment={iv.name: 1 for iv in plan.cell},
        provenance=Stimulus.Provenance.INTERVENTIONAL,
        measures_control=measures_control,
        measures_treated=measures_treated,
        check_status=Stimulus.CheckStatus.REJECTED if failed else Stimulus.CheckStatus.PASSED,
        check_reason=reason,
        details=details,
    )


def _reverse_problem(stimulus_set: StimulusSet, interventions: list[Intervention]) -> str:
    """Why the set's reversed interventions cannot run ('' when they can)."""
    for iv in interventions:
        if not is_reversed(iv.parameters):
            continue
        if iv.parameters.get("direction") not in OPPOSITE_DIRECTIONS:
            return (
                f"{iv.name}: a reversed intervention needs a direction with an opposite "
                f"({', '.join(OPPOSITE_DIRECTIONS)}), not {iv.parameters.get('direction')!r}"
            )
        if stimulus_set.design == StimulusSet.Design.FACTORIAL:
            return (
                f"{iv.name}: a reversed intervention makes pairs of its own and cannot be "
                "crossed; use it in a set with one pair per intervention"
            )
    return ""


def stimulus_set_generate(*, stimulus_set: StimulusSet, batch_size: int = WRITE_BATCH) -> int:
    """Make one stimulus per base response and cell; return how many were new.

    Idempotent: pairs already made (unique on set, control and cell) are skipped, so a
    re-run after a crash finishes the job and a second full run adds nothing. Progress
    counts planned pairs; the writes happen after the plan is complete.
    Raises GenerationFailed (and marks the set failed) when an LLM rewrite cannot be
    made; nothing of that run is written.
    """
    interventions = list(stimulus_set.interventions.order_by("pk"))
    bases = Response.objects.filter(
        origin=Response.Origin.IMPORTED, prompt__source=stimulus_set.response_source
    ).order_by("pk")
    if stimulus_set.response_model:
        bases = bases.filter(model_name=stimulus_set.response_model)
    cells = cells_for(stimulus_set, interventions)
    message = _reverse_problem(stimulus_set, interventions)
    if message:
        StimulusSet.objects.filter(pk=stimulus_set.pk).update(
            generation_status=StimulusSet.GenerationStatus.FAILED, generation_error=message
        )
        raise GenerationFailed(message)
    work = [(base, cell) for base in bases for cell in cells]
    # A pair's base is its control, or its treated side when reversed (a derived response
    # is never a base, so the union matches each pair once).
    made = stimulus_set.stimuli.values_list("control_id", "treated_id", "cell")
    done = {(c, cell) for c, _, cell in made} | {(t, cell) for _, t, cell in made}
    todo = [(b, c) for b, c in work if (b.pk, cell_key(c)) not in done]
    sets = StimulusSet.objects.filter(pk=stimulus_set.pk)
    sets.update(
        generation_status=StimulusSet.GenerationStatus.RUNNING,
        generation_total=len(work),
        generation_done=len(work) - len(todo),
        generation_error="",
    )
    planner = Planner(stimulus_set)
    plans: list[Plan] = []
    try:
        for n, (base, cell) in enumerate(todo, start=1):
            plans.append(planner.plan(base, cell))
            if n % batch_size == 0:
                sets.update(generation_done=len(work) - len(todo) + n)
    except LLMError as exc:
        message = f"LLM rewrite failed, nothing was written: {exc}"
        sets.update(generation_status=StimulusSet.GenerationStatus.FAILED, generation_error=message)
        raise GenerationFailed(message) from exc
    finally:
        planner.close()
    with transaction.atomic():
        created = Stimulus.objects.bulk_create(
            [_stimulus_write(stimulus_set, plan) for plan in plans], ignore_conflicts=True
        )
        sets.update(generation_status=StimulusSet.GenerationStatus.DONE, generation_done=len(work))
    return len(created)
