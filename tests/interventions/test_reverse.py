"""Shorter pairs that cut no content: the reverse of a longer pair. The control is the
answer lengthened by restatement, the treated side is the original answer."""

import pytest

from interventions.checks import pair_check
from interventions.generation import GenerationFailed
from interventions.models import Intervention, StimulusSet
from interventions.services import prompts_import, stimulus_set_generate
from tests.factories import LENGTH_FILE, TOLERANCES, demo_lines, intervention_make
from tests.interventions.test_llm import FakeEndpoint, _llm_settings


def _reverse(name="length-shorter-reverse", direction="shorter") -> Intervention:
    return Intervention.objects.create(
        name=name, attribute="length", transform="length",
        parameters={"direction": direction, "dose": 0.3, "reverse": True},
        check_measure="words", check_threshold=0.1, tolerances=TOLERANCES,
    )  # fmt: skip


def _set(interventions, design="separate") -> StimulusSet:
    prompts_import(lines=demo_lines(10, LENGTH_FILE), source="rev")
    stimulus_set = StimulusSet.objects.create(
        name=f"rev-{design}", response_source="rev", seed=11, design=design
    )
    stimulus_set.interventions.set(interventions)
    return stimulus_set


@pytest.mark.django_db
def test_the_reverse_of_a_longer_pair_is_a_checked_shorter_pair_of_the_original_answer():
    longer, reverse = intervention_make("longer"), _reverse()
    stimulus_set = _set([longer, reverse])
    stimulus_set_generate(stimulus_set=stimulus_set)
    pairs = stimulus_set.stimuli.select_related("control", "treated")
    forwards = pairs.filter(cell=longer.name)
    reversed_pairs = list(pairs.filter(cell=reverse.name))
    assert len(reversed_pairs) == forwards.count() >= 10
    for pair in reversed_pairs:
        # The treated side is the model's own answer; the control is it made longer by
        # the length transform (restatements only), which is what the pair takes away.
        assert pair.treated.origin == "imported" and pair.control.origin == "transformed"
        assert pair.control.parent_id == pair.treated_id
        assert (
            pair.control.parameters["direction"] == "shorter" and pair.control.parameters["reverse"]
        )
        assert pair.details[reverse.name]["reversed"] is True
        assert "'longer'" in pair.details[reverse.name]["control"]
        # Checked as shown, and the same as reading it forwards as a longer pair.
        read_forwards = pair_check(
            control=pair.treated.text, treated=pair.control.text, measure="words",
            threshold=0.1, direction=1, tolerances=TOLERANCES,
        )  # fmt: skip
        assert (pair.check_status == "passed") == read_forwards.result.passed, pair.check_reason
        assert pair.measures_control == read_forwards.measures_treated
        if pair.check_status == "passed":
            assert pair.measures_treated["words"] < 0.91 * pair.measures_control["words"]
    assert any(p.check_status == "passed" for p in reversed_pairs)
    # Idempotent: a second run finds every pair made.
    assert stimulus_set_generate(stimulus_set=stimulus_set) == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("direction", "design", "message"),
    [
        ("shorter", "factorial", "cannot be crossed"),
        ("inject", "separate", "needs a direction with an opposite"),
    ],
)
def test_a_reverse_that_cannot_run_says_why_and_makes_nothing(direction, design, message):
    stimulus_set = _set([intervention_make("longer"), _reverse(direction=direction)], design)
    with pytest.raises(GenerationFailed, match=message):
        stimulus_set_generate(stimulus_set=stimulus_set)
    stimulus_set.refresh_from_db()
    assert stimulus_set.generation_status == "failed" and not stimulus_set.stimuli.exists()


@pytest.mark.django_db
def test_a_reversed_llm_intervention_asks_for_the_opposite_direction():
    endpoint = FakeEndpoint()
    try:
        reverse = _reverse()
        reverse.backend = Intervention.Backend.LLM
        reverse.save()
        stimulus_set = _set([reverse])
        with _llm_settings(endpoint.url):
            stimulus_set_generate(stimulus_set=stimulus_set)
    finally:
        endpoint.close()
    instruction = endpoint.requests[0][2]["messages"][1]["content"]
    assert instruction.startswith("Make the answer about 30% longer")
    pair = stimulus_set.stimuli.select_related("control", "treated").first()
    assert pair.treated.origin == "imported"
    assert pair.control.text == FakeEndpoint.rewrite(pair.treated.text)
