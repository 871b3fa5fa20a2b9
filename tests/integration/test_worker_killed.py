"""A worker SIGKILLed in the middle of a refresh: the study's lease dies with it and a new
worker brings the estimate up to every label within seconds."""

import time

import numpy as np
import psycopg
import pytest
from django.db import connection

from analysis.coalesce import LEASE_SECONDS, QUEUED_SECONDS, lease_holder
from analysis.models import Estimate, RefreshRun, RefreshState
from analysis.tasks import BUSY_RETRY_MAX_SECONDS
from collection.models import Label
from tests.analysis.helpers import from_scratch, label_study
from tests.factories import stimulus_set_make, study_make
from tests.integration.conftest import _database_url, eventually, process_stop, worker_start

pytestmark = pytest.mark.services


def _refresh_blocked_on(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
        (f"%{table}%",),
    ).fetchone()
    return bool(row and row[0])


def _estimate_is_from_scratch(study) -> bool:
    latest = Estimate.objects.filter(study=study, estimand="amce", subgroup="all").last()
    if latest is None:
        return False
    fit = from_scratch(study, "length-longer")
    newest = Label.objects.filter(study=study).latest("pk").pk
    return (
        RefreshState.objects.get(study=study).watermark == newest
        and latest.n_labels == fit.n
        and latest.point == pytest.approx(fit.amce.point, rel=1e-10)
    )


def _stuck_then_killed(study, run: int) -> float:
    """Start a worker, let it refresh the study once, then stop its next refresh inside its
    transaction (another session holds the study's refresh state row: lease taken,
    snapshot open) while labels arrive, and SIGKILL it there. Returns the kill's time."""
    first = worker_start()
    blocker = psycopg.connect(_database_url(), autocommit=False)
    watcher = psycopg.connect(_database_url(), autocommit=True)
    try:
        label_study(study, annotators=3, rng=np.random.default_rng(run))
        assert eventually(lambda: _estimate_is_from_scratch(study), timeout=60), first.log()
        blocker.execute(
            "SELECT 1 FROM analysis_refreshstate WHERE study_id = %s FOR UPDATE", (study.pk,)
        )
        label_study(study, annotators=2, rng=np.random.default_rng(10 + run))
        stuck = eventually(
            lambda: (
                lease_holder(study_id=study.pk) and _refresh_blocked_on(watcher, "refreshstate")
            ),
            timeout=60,
        )
        assert stuck, f"the refresh never reached the sums; worker log:\n{first.log()}"
        first.process.kill()
        first.process.wait(timeout=10)
        return time.monotonic()
    finally:
        if first.process.poll() is None:
            process_stop(first)
        blocker.rollback()
        blocker.close()
        watcher.close()


@pytest.mark.parametrize("run", range(2))
def test_a_killed_worker_frees_the_study_within_the_lease(transactional_db, run):
    study = study_make(stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6)
    killed_at = _stuck_then_killed(study, run)
    # Annotators go on labelling. Their label either sends a message or is covered by one
    # already waiting in the queue (sent by a label committed after the killed refresh
    # began), which is why this worker must not purge.
    second = worker_start(purge=False)
    try:
        label_study(study, annotators=1, rng=np.random.default_rng(20 + run))
        caught_up = eventually(lambda: _estimate_is_from_scratch(study), timeout=60)
        elapsed = time.monotonic() - killed_at
        print(f"\nestimate caught up {elapsed:.1f} s after the kill (lease {LEASE_SECONDS:.0f} s)")
        assert caught_up, f"no catch-up within 60 s; worker log:\n{second.log()}"
        assert elapsed < max(LEASE_SECONDS, QUEUED_SECONDS) + 2 * BUSY_RETRY_MAX_SECONDS
    finally:
        process_stop(second)
        connection.close()


def test_a_starting_worker_refreshes_studies_whose_labels_no_message_covers(transactional_db):
    # The labels' refresh messages are purged as the worker starts, as a killed worker takes
    # with it a message it had already taken off the broker: the worker's start alone must
    # bring the estimate up to every label.
    study = study_make(stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6)
    label_study(study, annotators=3, rng=np.random.default_rng(30))
    assert not Estimate.objects.filter(study=study).exists()
    worker = worker_start(purge=True)
    try:
        assert eventually(lambda: _estimate_is_from_scratch(study), timeout=30), worker.log()
        assert worker.count("refresh sweep (worker-start): studies") == 1
        assert RefreshRun.objects.filter(study=study, trigger="worker-start").exists()
    finally:
        process_stop(worker)
        connection.close()
