"""Test helpers for the collection app (kept here rather than in tests/factories.py)."""

import uuid

from collection.models import SlotBucket, StimulusSlot, Study
from collection.services import label_submit
from interventions.models import Stimulus


def attention_checks_make(stimulus_set, n: int) -> list[Stimulus]:
    """Turn copies of the set's first stimuli into attention checks (treated side right)."""
    checks = []
    for source in Stimulus.objects.filter(stimulus_set=stimulus_set).order_by("pk")[:n]:
        source.pk = None
        source.cell = f"attention-{source.cell}"
        source.is_attention_check = True
        source.attention_answer = Stimulus.Side.TREATED
        source.check_status = Stimulus.CheckStatus.PASSED
        source.save()
        checks.append(source)
    return checks


def submit(enrollment, assignment, choice="left", submission_id=None, **extra):
    return label_submit(
        enrollment_id=enrollment.pk,
        assignment_id=assignment.pk,
        submission_id=submission_id or uuid.uuid4(),
        choice=choice,
        strength=extra.pop("strength", 2),
        **extra,
    )


def pool_problems(study: Study) -> list[str]:
    """Inconsistencies between the slot table and the assignments: each bucket must be
    dense (positions 0..size-1) and each slot's level its live assignments."""
    problems = []
    for bucket in SlotBucket.objects.filter(study=study):
        positions = sorted(
            StimulusSlot.objects.filter(
                study=study, cell=bucket.cell, level=bucket.level
            ).values_list("pos", flat=True)
        )
        if positions != list(range(bucket.size)):
            problems.append(f"bucket {bucket} positions {positions}")
    for slot in StimulusSlot.objects.filter(study=study).exclude(cell="!attention"):
        live = study.assignments.filter(stimulus_id=slot.stimulus_id).exclude(state="returned")
        if live.count() != slot.level:
            problems.append(f"{slot}: {live.count()} live assignments")
    return problems
