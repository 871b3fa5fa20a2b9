import secrets

import pytest

from interventions.models import Intervention, Response, Stimulus, StimulusSet
from interventions.selectors import stimulus_set_cell_counts, stimulus_set_check_counts
from interventions.services import (
    interventions_install_builtin,
    prompts_import,
    stimulus_set_generate,
)
from tests.factories import demo_lines, stimulus_set_make


@pytest.mark.django_db
def test_generation_makes_one_checked_stimulus_per_response_and_intervention():
    stimulus_set = stimulus_set_make(prompts=6, directions=("longer", "shorter"))
    responses = Response.objects.filter(
        origin=Response.Origin.IMPORTED, prompt__source=stimulus_set.response_source
    ).count()
    stimuli = Stimulus.objects.filter(stimulus_set=stimulus_set)
    assert stimuli.count() == responses * 2
    stimulus_set.refresh_from_db()
    assert stimulus_set.generation_status == StimulusSet.GenerationStatus.DONE
    assert stimulus_set.generation_done == stimulus_set.generation_total == responses * 2
    for stimulus in stimuli:
        assert stimulus.treatment == {stimulus.cell: 1}
        assert stimulus.treated.parent_id == stimulus.control_id
        assert stimulus.treated.generator == "length@3"
        if stimulus.check_status == Stimulus.CheckStatus.REJECTED:
            assert stimulus.check_reason
        else:
            grew = stimulus.measures_treated["words"] > stimulus.measures_control["words"]
            assert grew == (stimulus.cell == "length-longer")
    counts = stimulus_set_check_counts(stimulus_set=stimulus_set)
    assert sum(counts.values()) == stimuli.count()
    assert counts["passed"] > 0


@pytest.mark.django_db
def test_generation_is_idempotent():
    stimulus_set = stimulus_set_make(prompts=4)
    before = (Stimulus.objects.count(), Response.objects.count())
    texts = dict(Stimulus.objects.values_list("pk", "treated__text"))
    assert stimulus_set_generate(stimulus_set=stimulus_set) == 0
    assert (Stimulus.objects.count(), Response.objects.count()) == before
    assert dict(Stimulus.objects.values_list("pk", "treated__text")) == texts


def _set_with(*names: str, design: str, prompts: int = 6, source: str | None = None):
    interventions_install_builtin()
    source = source or f"gen-{secrets.token_hex(4)}"
    prompts_import(lines=demo_lines(prompts), source=source)
    stimulus_set = StimulusSet.objects.create(
        name=f"set-{source}", response_source=source, seed=7, design=design
    )
    stimulus_set.interventions.set(Intervention.objects.filter(name__in=names))
    return stimulus_set


@pytest.mark.django_db
def test_factorial_set_has_every_cell_applied_in_sequence():
    names = ("hedging-more", "sycophancy-more", "markdown-add")
    stimulus_set = _set_with(*names, design=StimulusSet.Design.FACTORIAL)
    bases = Response.objects.filter(prompt__source=stimulus_set.response_source)
    bases = list(bases)  # the imported responses, before generation derives more
    created = stimulus_set_generate(stimulus_set=stimulus_set)
    assert created == len(bases) * (2 ** len(names) - 1)
    counts = stimulus_set_cell_counts(stimulus_set=stimulus_set)
    assert len(counts) == 7 and {c["total"] for c in counts.values()} == {len(bases)}
    triple = Stimulus.objects.filter(stimulus_set=stimulus_set, cell="+".join(sorted(names)))
    for stimulus in triple:
        assert stimulus.treatment == dict.fromkeys(names, 1)
        # The treated text is a chain: each intervention applied to the previous result.
        chain, response = [], stimulus.treated
        while response.parent_id:
            chain.append(response.generator.split("@")[0])
            response = response.parent
        assert response == stimulus.control and sorted(chain) == sorted(
            ["hedging", "sycophancy", "markdown"]
        )
        if stimulus.check_status == Stimulus.CheckStatus.PASSED:
            for measure in ("hedges", "flattery", "markdown"):
                assert stimulus.measures_treated[measure] > stimulus.measures_control[measure]
    single = Stimulus.objects.get(
        stimulus_set=stimulus_set, cell="hedging-more", control=triple[0].control
    )
    pair = Stimulus.objects.get(
        stimulus_set=stimulus_set, cell="hedging-more+sycophancy-more", control=triple[0].control
    )
    # Cells share their prefixes: the hedged text is reused, not re-derived.
    assert pair.treated.parent_id == single.treated_id
    assert stimulus_set_generate(stimulus_set=stimulus_set) == 0


@pytest.mark.django_db
def test_factual_error_records_which_side_is_wrong():
    stimulus_set = _set_with("factual-error", design=StimulusSet.Design.SEPARATE, prompts=10)
    stimulus_set_generate(stimulus_set=stimulus_set)
    passed = Stimulus.objects.filter(
        stimulus_set=stimulus_set, check_status=Stimulus.CheckStatus.PASSED
    )
    assert passed.exists()
    for stimulus in passed:
        details = stimulus.details["factual-error"]
        assert details["erroneous_side"] == "treated"
        at, replacement = details["offset"], details["replacement"]
        assert stimulus.treated.text[at : at + len(replacement)] == replacement
        assert stimulus.control.text[at : at + len(details["original"])] == details["original"]
    for stimulus in Stimulus.objects.filter(
        stimulus_set=stimulus_set, check_status=Stimulus.CheckStatus.REJECTED
    ):
        assert stimulus.check_reason == "the transform left the text unchanged"
        assert stimulus.details == {}
