"""Faults staged on a deployment of the test's own (PostgreSQL, Redis, gunicorn, a Celery
worker and beat) while annotators label over HTTP. Each ends with the same audit: every
label the server acknowledged is stored exactly once, every replay got the original
label back, and the estimates equal a from-scratch recompute.

A worker SIGKILLed in the middle of a refresh is staged in
tests/integration/test_worker_killed.py.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.faults.annotators import Annotator, Tally, crowd
from tests.faults.cluster import Deployment

pytestmark = pytest.mark.services

SLUG = "demo"
ANNOTATORS = 10
LABELS_EACH = 40


@pytest.fixture(scope="module")
def deployment():
    made = Deployment(web=1, workers=1)
    # Room for every test's annotators: each labels LABELS_EACH distinct pairs.
    made.sql(
        "UPDATE collection_study SET replication_factor = 200, labels_per_annotator = %s "
        "WHERE slug = %s",
        (LABELS_EACH, SLUG),
    )
    yield made
    made.close()


def _label_through(deployment: Deployment, fault, *, seed: int, seconds: float = 150) -> Tally:
    """Annotators label while ``fault`` runs in this thread; returns what they saw."""
    bases = [deployment.base_url(web) for web in deployment.webs]
    threads, tally, errors = crowd(bases, SLUG, ANNOTATORS, seconds, seed=seed, pause=0.1)
    fault()
    for thread in threads:
        thread.join(seconds + 30)
    assert not errors, f"annotators failed: {errors[:3]}\n{deployment.logs()}"
    assert tally.completed == ANNOTATORS, tally
    return tally


def _audit(deployment: Deployment, tally: Tally) -> None:
    stored = dict(
        deployment.sql(
            "SELECT submission_id::text, id FROM collection_label "
            "WHERE submission_id::text = ANY(%s)",
            (list(tally.acknowledged),),
        )
    )
    assert len(tally.acknowledged) == ANNOTATORS * LABELS_EACH
    assert stored == tally.acknowledged, "an acknowledged label is missing or differs"
    assert all(first == again for _, first, again in tally.replays), "a replay made a new label"
    per_assignment = deployment.sql(
        "SELECT assignment_id, count(*) FROM collection_label GROUP BY 1 HAVING count(*) > 1"
    )
    assert per_assignment == [], "an assignment was labelled twice"
    deployment.wait_settled(SLUG)


def test_redis_stopped_while_annotators_label(deployment):
    """Sessions live in the database and a label commits before its refresh is enqueued:
    with the broker and cache gone for 8 s, nobody gets an error page and no label is lost;
    the sweep catches the estimates up once Redis is back."""

    def outage() -> None:
        time.sleep(2)
        deployment.redis.stop()
        time.sleep(8)
        deployment.redis.start()

    tally = _label_through(deployment, outage, seed=1)
    print(f"\nRedis outage: {tally.statuses} dropped={tally.dropped} replays={len(tally.replays)}")
    assert not {code for code in tally.statuses if code >= 500}, tally.statuses
    _audit(deployment, tally)


def test_postgres_restarted_under_load(deployment):
    """While the database restarts every request answers 503 with Retry-After (never a
    500), clients retry with the same submission id, and service heals by itself."""

    def restart() -> None:
        time.sleep(2)
        deployment.postgres.restart()

    tally = _label_through(deployment, restart, seed=2)
    print(f"\nPostgreSQL restart: {tally.statuses} dropped={tally.dropped}")
    assert 500 not in tally.statuses, tally.statuses
    _audit(deployment, tally)


def test_gunicorn_sigterm_under_load(deployment):
    """SIGTERM lets gunicorn finish the requests it holds; annotators reconnect to the
    restarted host and nothing acknowledged is lost or doubled."""
    web = deployment.webs[0]

    def terminate_and_restart() -> None:
        time.sleep(2)
        web.signal(signal.SIGTERM)
        assert web.process is not None
        web.process.wait(timeout=40)
        web.start()
        deployment.wait_ready(web)

    tally = _label_through(deployment, terminate_and_restart, seed=3)
    print(f"\ngunicorn SIGTERM: {tally.statuses} dropped={tally.dropped}")
    assert 500 not in tally.statuses, tally.statuses
    _audit(deployment, tally)


def test_flaky_clients_replay_and_reorder(deployment):
    """Every annotator resends old labels out of order (a third of the time): each
    acknowledged label is stored once and every replay gets the original back."""
    bases = [deployment.base_url(web) for web in deployment.webs]
    threads, tally, errors = crowd(bases, SLUG, ANNOTATORS, 120, seed=4, replay_rate=0.33)
    for thread in threads:
        thread.join(150)
    assert not errors, errors[:3]
    assert len(tally.replays) > ANNOTATORS, "the clients did not replay"
    _audit(deployment, tally)


def test_the_same_submission_sent_at_once_is_stored_once(deployment):
    annotator = Annotator([deployment.base_url(deployment.webs[0])], SLUG, "racer", Tally(), 5)
    deadline = time.monotonic() + 60
    annotator.enter(deadline)
    payload = annotator.next_payload(deadline)
    ids = annotator.race(payload, copies=4, deadline=deadline)
    assert len(ids) == 4 and len(set(ids)) == 1, ids
    stored = deployment.sql(
        "SELECT id FROM collection_label WHERE submission_id::text = %s",
        (payload["submission_id"],),
    )
    assert stored == [(ids[0],)]
