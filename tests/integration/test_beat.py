"""Every periodic task, as production runs it: a real beat process sends each entry of
CELERY_BEAT_SCHEDULE, with the options its task declares, to a real worker, and the task
does its job. Only the interval is shortened."""

import sys
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone

from analysis.models import AnnotatorSums, Estimate, RefreshRun, RefreshState
from analysis.services import study_refresh
from collection.models import Assignment, Label, Study, Webhook, WebhookDelivery
from collection.refresh import PENDING_SECONDS, _pending_key
from collection.services import assignment_next
from config.redis_client import redis_client
from interventions.models import Stimulus
from tests.analysis.helpers import from_scratch, label_study
from tests.collection.helpers import submit
from tests.collection.test_webhooks import Receiver
from tests.factories import enrollment_make, study_make
from tests.integration.conftest import (
    Worker,
    eventually,
    process_start,
    process_stop,
    worker_start,
)
from tests.services import require_postgres_and_redis

pytestmark = pytest.mark.services

EVERY_SECONDS = 1.0
TIMEOUT = 60

# Celery's own CLI, with the one entry under test at a short interval. Everything else
# (task name, arguments, options, the task's declared limits) is what production sends.
BEAT = """
import sys
import django
django.setup()
from django.conf import settings
name, every, schedule_file = sys.argv[1], float(sys.argv[2]), sys.argv[3]
# Through Django's settings, which the app reads on first use: Celery 5.6 lets the
# CELERY_-prefixed setting win over an app.conf.beat_schedule set here.
settings.CELERY_BEAT_SCHEDULE = {name: {**settings.CELERY_BEAT_SCHEDULE[name], "schedule": every}}
from config.celery import app
app.start(["beat", "--loglevel=INFO", "--schedule", schedule_file])
"""


def _study_with_an_overdue_assignment() -> Callable[[], bool]:
    """With k=1, every stimulus is labelled but one, served and abandoned: nobody else can
    get work until the sweep returns it."""
    study = study_make(replication_factor=1, labels_per_annotator=500)
    first = enrollment_make(study)
    for _ in range(Stimulus.objects.filter(check_status="passed").count() - 1):
        submit(first, assignment_next(enrollment_id=first.pk).assignment)
    abandoned = assignment_next(enrollment_id=first.pk).assignment
    Assignment.objects.filter(pk=abandoned.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    def back_in_the_pool() -> bool:
        abandoned.refresh_from_db()
        if abandoned.state != Assignment.State.RETURNED:
            return False
        again = assignment_next(enrollment_id=enrollment_make(study).pk).assignment
        return again is not None and again.stimulus_id == abandoned.stimulus_id

    return back_in_the_pool


def _study_whose_refresh_was_missed() -> Callable[[], bool]:
    """Labels old enough for the sweep whose refresh never ran. They are made once the
    worker runs (a starting worker catches up on what it finds: that is another test's),
    under the pending marker that a lost refresh message leaves behind, so that none of
    them sends a message of its own."""
    made: dict[str, int] = {}

    def make() -> None:
        study = study_make(labels_per_annotator=6)
        lost = redis_client(settings.REDIS_URL, timeout=2)
        lost.set(_pending_key(study.pk), 1, ex=PENDING_SECONDS)
        label_study(study, annotators=3, rng=np.random.default_rng(3))
        Label.objects.filter(study=study).update(created_at=timezone.now() - timedelta(minutes=5))
        made["study"] = study.pk
        made["newest"] = Label.objects.filter(study=study).latest("pk").pk

    def folded() -> bool:
        if not made:
            make()
        study = Study.objects.get(pk=made["study"])
        swept = RefreshRun.objects.filter(study=study, trigger="sweep", watermark_to=made["newest"])
        if not swept.exists():
            return False
        return _estimate_is_from_scratch(study)

    return folded


def _study_whose_sums_drifted() -> Callable[[], bool]:
    study = study_make(labels_per_annotator=6)
    label_study(study, annotators=3, rng=np.random.default_rng(4))
    study_refresh(study_id=study.pk)
    row = AnnotatorSums.objects.filter(study=study).first()
    AnnotatorSums.objects.filter(pk=row.pk).update(sum_wy=row.sum_wy + 3.0, n=row.n + 1)

    def repaired() -> bool:
        rebuilt = RefreshRun.objects.filter(
            study=study, kind=RefreshRun.Kind.FULL, trigger="schedule", drift__gt=0
        )
        return rebuilt.exists() and _estimate_is_from_scratch(study)

    return repaired


def _estimate_is_from_scratch(study: Study) -> bool:
    latest = Estimate.objects.filter(study=study, estimand="amce", subgroup="all").latest("pk")
    fit = from_scratch(study, latest.intervention.name)
    state = RefreshState.objects.get(study=study)
    return (
        state.watermark == Label.objects.filter(study=study).latest("pk").pk
        and latest.n_labels == fit.n
        and latest.point == pytest.approx(fit.amce.point, rel=1e-10)
    )


def _webhook_delivery_left_idle() -> Callable[[], bool]:
    """A label's delivery whose queued message is lost (the worker starts with --purge, as
    if the broker had lost it), idle for a day: the sweep queues it again and the worker
    delivers it."""
    receiver = Receiver()
    study = study_make(labels_per_annotator=1)
    Webhook.objects.create(study=study, url=receiver.url, events=["label.created"])
    label_study(study, annotators=1, rng=np.random.default_rng(0))
    WebhookDelivery.objects.update(last_activity_at=timezone.now() - timedelta(days=1))

    def delivered() -> bool:
        done = WebhookDelivery.objects.filter(status="delivered").count() == 1
        if done:
            receiver.close()
        return done and len(receiver.requests) == 1

    return delivered


# Each entry's job, set up before the worker starts; the callable says when it is done.
# A new beat entry needs its own line here: the test below fails until it has one.
EFFECTS: dict[str, Callable[[], Callable[[], bool]]] = {
    "collection-assignments-expire": _study_with_an_overdue_assignment,
    "analysis-refresh-sweep": _study_whose_refresh_was_missed,
    "analysis-rebuild-all": _study_whose_sums_drifted,
    "collection-webhooks-requeue": _webhook_delivery_left_idle,
}


def _beat_start(name: str, schedule_file: str) -> Worker:
    command = [sys.executable, "-c", BEAT, name, str(EVERY_SECONDS), schedule_file]
    return process_start(command, ready="beat: Starting", what="Celery beat")


@pytest.mark.parametrize("name", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_beat_entry_runs_on_a_worker_and_does_its_job(name, transactional_db, tmp_path):
    require_postgres_and_redis()
    assert name in EFFECTS, f"beat entry {name!r} has no effect check: add one to EFFECTS"
    done = EFFECTS[name]()
    task = settings.CELERY_BEAT_SCHEDULE[name]["task"]
    worker = worker_start()
    beat = _beat_start(name, str(tmp_path / "celerybeat-schedule"))
    try:
        succeeded = eventually(
            lambda: any(f"Task {task}[" in ln and "succeeded in" in ln for ln in worker.lines),
            timeout=TIMEOUT,
        )
        logs = f"beat log:\n{beat.log()}\nworker log:\n{worker.log()}"
        assert succeeded, f"{task} did not succeed within {TIMEOUT}s; {logs}"
        assert beat.count("Couldn't apply scheduled task") == 0, logs
        assert beat.count(f"Sending due task {name} ({task})") >= 1, logs
        assert eventually(done, timeout=TIMEOUT), f"{name} ran but did not do its job; {logs}"
    finally:
        process_stop(beat)
        process_stop(worker)
