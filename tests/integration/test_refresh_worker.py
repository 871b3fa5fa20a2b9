"""A burst of labels through a real worker on Redis: exactly the refreshes promised."""

import numpy as np
import pytest

from analysis.coalesce import refresh_lock
from analysis.models import Estimate, RefreshRun, RefreshState
from collection.models import Label
from tests.analysis.helpers import from_scratch, label_study
from tests.factories import stimulus_set_make, study_make
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.services


def _covered(study):
    newest = Label.objects.filter(study=study).latest("pk").pk
    return RefreshState.objects.filter(study=study, watermark=newest).exists()


def _refresh_lines(worker, event: str) -> int:
    return sum("analysis.refresh_study[" in line and event in line for line in worker.lines)


def _settled(worker) -> bool:
    """Every refresh message the worker received has an outcome (a result or a retry)."""
    handled = _refresh_lines(worker, "] succeeded in") + _refresh_lines(worker, "] retry:")
    return _refresh_lines(worker, "] received") == handled


def test_a_burst_during_a_refresh_costs_exactly_one_more_refresh(celery_worker_process):
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6, min_annotators=2
    )
    # Hold the study's refresh lock, as a refresh in flight does, while 24 labels commit:
    # the first message is queued behind it (retried), every later one is coalesced into
    # that one (or never sent: a refresh waiting to start covers the labels), and exactly
    # one refresh then folds all 24.
    with refresh_lock(study_id=study.pk) as held:
        assert held
        label_study(study, annotators=4, rng=np.random.default_rng(1))
        wait_for(
            lambda: celery_worker_process.count("retry") >= 1,
            timeout=60,
            worker=celery_worker_process,
            what="the first message queued behind the refresh in flight",
        )
        assert not RefreshRun.objects.filter(study=study).exists()
    wait_for(
        lambda: celery_worker_process.count("'refreshed'") >= 1,
        timeout=60,
        worker=celery_worker_process,
        what="the queued refresh",
    )
    wait_for(
        lambda: _settled(celery_worker_process),
        timeout=60,
        worker=celery_worker_process,
        what="every message handled",
    )
    assert _covered(study)
    retries = _refresh_lines(celery_worker_process, "] retry:")
    sent = _refresh_lines(celery_worker_process, "] received") - retries
    assert 1 <= sent <= 24
    assert celery_worker_process.count("'refreshed'") == 1
    others = celery_worker_process.count("'coalesced'") + celery_worker_process.count("'covered'")
    assert others == sent - 1
    (run,) = RefreshRun.objects.filter(study=study)
    assert run.labels_folded == 24 and run.trigger == "label"
    estimate = Estimate.objects.get(study=study, estimand="amce", subgroup="all")
    fit = from_scratch(study, "length-longer")
    assert estimate.watermark == Label.objects.filter(study=study).latest("pk").pk
    assert estimate.point == pytest.approx(fit.amce.point, rel=1e-10)
    assert estimate.se == pytest.approx(fit.amce.se, rel=1e-10)


def test_labels_arriving_freely_are_each_folded_exactly_once(celery_worker_process):
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6, min_annotators=2
    )
    label_study(study, annotators=5, rng=np.random.default_rng(2))
    wait_for(lambda: _covered(study), timeout=60, worker=celery_worker_process, what="a refresh")
    runs = list(RefreshRun.objects.filter(study=study).order_by("started_at"))
    # Coalesced: never more refreshes than labels, and no label folded twice or missed.
    assert 1 <= len(runs) <= 30
    assert sum(r.labels_folded for r in runs) == 30
    # One in flight at a time: each run starts after the previous one finished.
    assert all(a.finished_at <= b.started_at for a, b in zip(runs, runs[1:], strict=False))
    assert all(a.watermark_to == b.watermark_from for a, b in zip(runs, runs[1:], strict=False))
    latest = Estimate.objects.filter(study=study, estimand="amce", subgroup="all").latest("pk")
    fit = from_scratch(study, "length-longer")
    assert latest.point == pytest.approx(fit.amce.point, rel=1e-10)
    assert latest.se == pytest.approx(fit.amce.se, rel=1e-10)
