"""Attention checks a researcher adds to a stimulus set without the shell: instructed
responses. Each is a pair of the set whose treated answer is replaced by an instruction
to choose the other answer, so an attentive annotator picks the real answer (the
control side); the engine shows them at the study's attention-check rate, the estimates
leave them out, and the completion rule and the exports' filters read them."""

import numpy as np
from django.db import transaction

from interventions.measures import measure_all
from interventions.models import Response, Stimulus, StimulusSet

INSTRUCTION = (
    "This answer is an attention check, not an answer to the question. "
    "Please choose the other answer."
)
GENERATOR = "attention-instruction@1"


class AttentionRefused(ValueError):
    """The set has no pair to copy: the message says what to do."""


def attention_checks_add(*, stimulus_set: StimulusSet, count: int, seed: int) -> list[Stimulus]:
    """``count`` new checks from distinct passed pairs of the set not yet used for one,
    drawn with ``seed`` (recorded in each check's details)."""
    used = set(
        Stimulus.objects.filter(stimulus_set=stimulus_set, is_attention_check=True).values_list(
            "control_id", flat=True
        )
    )
    pairs = list(
        Stimulus.objects.filter(
            stimulus_set=stimulus_set,
            is_attention_check=False,
            check_status=Stimulus.CheckStatus.PASSED,
        )
        .exclude(control_id__in=used)
        .order_by("pk")
    )
    if not pairs:
        raise AttentionRefused(
            f"{stimulus_set.name} has no passed pair left to make an attention check from: "
            "generate or import pairs first"
        )
    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in sorted(rng.choice(len(pairs), min(count, len(pairs)), False))]
    checks = []
    with transaction.atomic():
        for source in chosen:
            instruction, _ = Response.objects.get_or_create(
                parent=source.control,
                generator=GENERATOR,
                parameters={},
                origin=Response.Origin.TRANSFORMED,
                defaults={
                    "prompt": source.prompt,
                    "text": INSTRUCTION,
                    "model_name": source.control.model_name,
                },
            )
            checks.append(
                Stimulus.objects.create(
                    stimulus_set=stimulus_set,
                    prompt=source.prompt,
                    control=source.control,
                    treated=instruction,
                    cell=f"attention-{source.cell}",
                    treatment=source.treatment,
                    provenance=source.provenance,
                    measures_control=source.measures_control,
                    measures_treated=measure_all(INSTRUCTION),
                    check_status=Stimulus.CheckStatus.PASSED,
                    details={
                        "attention": {
                            "kind": "instructed response",
                            "seed": seed,
                            "copied_from": source.pk,
                        }
                    },  # fmt: skip
                    is_attention_check=True,
                    attention_answer=Stimulus.Side.CONTROL,
                )
            )
    return checks
