"""Generation on a real Celery worker (PostgreSQL + Redis): a factorial set is made in
full, and an LLM set without endpoint settings fails visibly with nothing written."""

import pytest
from django.db import transaction

from interventions.models import Intervention, Stimulus, StimulusSet
from interventions.services import (
    interventions_install_builtin,
    prompts_import,
    stimulus_set_generation_enqueue,
)
from tests.factories import demo_lines
from tests.integration.conftest import celery_worker_process, wait_for  # noqa: F401

pytestmark = pytest.mark.services


def _enqueue(name: str, interventions, design: str) -> StimulusSet:
    with transaction.atomic():
        stimulus_set = StimulusSet.objects.create(
            name=name, response_source="worker-src", seed=2, design=design
        )
        stimulus_set.interventions.set(interventions)
        stimulus_set_generation_enqueue(stimulus_set=stimulus_set)
    return stimulus_set


def test_factorial_and_failing_llm_sets_on_the_worker(celery_worker_process):  # noqa: F811
    prompts_import(lines=demo_lines(3), source="worker-src")
    interventions_install_builtin()
    pair = Intervention.objects.filter(name__in=["hedging-more", "politeness-more"])
    factorial = _enqueue("factorial", pair, StimulusSet.Design.FACTORIAL)
    llm = Intervention.objects.create(
        name="llm-hedging",
        attribute="hedging",
        transform="hedging",
        parameters={"direction": "more"},
        check_measure="hedges",
        check_threshold=1.0,
        backend=Intervention.Backend.LLM,
    )
    failing = _enqueue("llm", [llm], StimulusSet.Design.SEPARATE)
    finished = ("done", "failed")
    wait_for(
        lambda: (
            StimulusSet.objects.filter(
                pk__in=[factorial.pk, failing.pk], generation_status__in=finished
            ).count()
            == 2
        ),
        timeout=60,
        worker=celery_worker_process,
        what="both generations to finish",
    )
    factorial.refresh_from_db()
    failing.refresh_from_db()
    assert factorial.generation_status == "done"
    assert factorial.generation_done == factorial.generation_total == 6 * 3
    cells = set(Stimulus.objects.filter(stimulus_set=factorial).values_list("cell", flat=True))
    assert cells == {"hedging-more", "politeness-more", "hedging-more+politeness-more"}
    assert failing.generation_status == "failed"
    assert "LLM_BASE_URL" in failing.generation_error
    assert not Stimulus.objects.filter(stimulus_set=failing).exists()
