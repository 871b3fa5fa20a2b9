import pytest

from interventions.models import Response, Stimulus, StimulusSet
from interventions.selectors import stimulus_set_check_counts
from interventions.services import stimulus_set_generate
from tests.factories import stimulus_set_make


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
        assert stimulus.treated.generator == "length@2"
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
