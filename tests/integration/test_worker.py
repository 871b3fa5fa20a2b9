"""Label in, estimate out: PostgreSQL, Redis and a real Celery worker process."""

import numpy as np
import pytest
from django.db import transaction

from analysis.estimators.effects import attribute_effect
from analysis.models import Estimate
from collection.models import Label
from interventions.models import Stimulus, StimulusSet
from interventions.services import prompts_import, stimulus_set_generation_enqueue
from tests.analysis.helpers import label_study
from tests.factories import demo_lines, intervention_make, study_make
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.services


def test_generation_runs_on_the_worker(celery_worker_process):
    prompts_import(lines=demo_lines(5), source="worker-gen")
    with transaction.atomic():
        stimulus_set = StimulusSet.objects.create(
            name="worker", response_source="worker-gen", seed=3
        )
        stimulus_set.interventions.set([intervention_make("longer")])
        stimulus_set_generation_enqueue(stimulus_set=stimulus_set)
    wait_for(
        lambda: StimulusSet.objects.filter(pk=stimulus_set.pk, generation_status="done").exists(),
        timeout=60,
        worker=celery_worker_process,
        what="stimulus generation",
    )
    assert Stimulus.objects.filter(stimulus_set=stimulus_set).count() == 10


def test_labels_in_estimate_out(celery_worker_process):
    study = study_make(labels_per_annotator=6, min_annotators=2)
    label_study(study, annotators=3, rng=np.random.default_rng(4), p_treated=0.75)
    newest = Label.objects.latest("pk").pk
    estimate = wait_for(
        lambda: Estimate.objects.filter(study=study, estimand="amce", watermark=newest).first(),
        timeout=60,
        worker=celery_worker_process,
        what="an estimate covering the last label",
    )
    labels = Label.objects.filter(study=study).select_related("assignment")
    # Ties count half, strength is ignored, every label weighs 1 (the defaults).
    fit = attribute_effect(
        outcome=np.array([lb.outcome for lb in labels]),
        treated_on_left=np.array([lb.assignment.treated_on_left for lb in labels]),
        propensity=np.ones(labels.count()),
        annotator=np.array([lb.assignment.annotator_id for lb in labels]),
        vcov="CR2",
    )
    assert estimate.n_labels == labels.count() == 18
    assert estimate.point == pytest.approx(fit.amce.point, rel=1e-12)
    assert estimate.se == pytest.approx(fit.amce.se, rel=1e-12)
    assert celery_worker_process.count("analysis.refresh_study") >= 1
