"""Attention checks added from the admin: instructed answers copied from passed pairs,
served by the engine at the study's rate, left out of the estimates, and scored by the
completion rule as the annotator answers them."""

import uuid

import numpy as np
import pytest
from django.urls import reverse

from collection.selectors import attention_passed
from collection.services import assignment_next, label_submit
from interventions.attention import INSTRUCTION, AttentionRefused, attention_checks_add
from interventions.models import Stimulus, StimulusSet
from tests.factories import enrollment_make, researcher_make, stimulus_set_make, study_make


@pytest.mark.django_db
def test_checks_copy_distinct_passed_pairs_with_the_instruction_on_the_treated_side():
    stimulus_set = stimulus_set_make(prompts=6)
    passed = Stimulus.objects.filter(stimulus_set=stimulus_set, check_status="passed").count()
    first = attention_checks_add(stimulus_set=stimulus_set, count=3, seed=1)
    again = attention_checks_add(stimulus_set=stimulus_set, count=100, seed=2)
    checks = first + again
    assert len(checks) == passed  # each pair once, then no more
    assert len({c.control_id for c in checks}) == passed
    for c in checks:
        assert c.is_attention_check and c.attention_answer == "control"
        assert c.treated.text == INSTRUCTION and c.control.text != INSTRUCTION
        assert c.details["attention"]["copied_from"]
    with pytest.raises(AttentionRefused, match="no passed pair left"):
        attention_checks_add(stimulus_set=stimulus_set, count=1, seed=3)


@pytest.mark.django_db
def test_served_at_the_rate_and_scored_as_answered():
    stimulus_set = stimulus_set_make(prompts=10)
    attention_checks_add(stimulus_set=stimulus_set, count=4, seed=1)
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=8, attention_check_rate=0.25)
    enrollment = enrollment_make(study)
    checks = right = 0
    rng = np.random.default_rng(0)
    while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
        stimulus = a.stimulus
        if stimulus.is_attention_check:
            checks += 1
            # Answer the first check wrongly (the instruction), the rest rightly.
            want_control = checks > 1
            right += want_control
            pick_left = a.treated_on_left != want_control
        else:
            pick_left = bool(rng.random() < 0.5)
        label_submit(
            enrollment_id=enrollment.pk, assignment_id=a.pk, submission_id=uuid.uuid4(),
            choice="left" if pick_left else "right", strength=2,
        )  # fmt: skip
    assert checks >= 1
    assert attention_passed(enrollment_id=enrollment.pk) == (right, checks)


@pytest.mark.django_db
def test_the_admin_action_adds_five_to_the_researchers_set(client):
    owner = researcher_make("att-owner")
    stimulus_set = stimulus_set_make(prompts=8)
    StimulusSet.objects.filter(pk=stimulus_set.pk).update(owner=owner)
    client.force_login(owner)
    answer = client.post(
        reverse("admin:interventions_stimulusset_changelist"),
        {"action": "attention_checks", "_selected_action": [stimulus_set.pk]},
        follow=True,
    )
    assert "added 5 attention checks" in answer.content.decode()
    assert Stimulus.objects.filter(stimulus_set=stimulus_set, is_attention_check=True).count() == 5
