from celery import shared_task

from interventions.models import StimulusSet
from interventions.services import (
    GENERATE_TASK,
    stimulus_set_generate,
    stimulus_set_generation_failed,
)


@shared_task(name=GENERATE_TASK, acks_late=True)
def generate_stimuli(stimulus_set_id: int) -> int:
    stimulus_set = StimulusSet.objects.get(pk=stimulus_set_id)
    try:
        return stimulus_set_generate(stimulus_set=stimulus_set)
    except Exception as exc:
        stimulus_set_generation_failed(stimulus_set_id=stimulus_set_id, error=str(exc) or repr(exc))
        raise
