"""Label commits ask for an analysis refresh: one message per burst, never an error."""

import json
import secrets

import pytest
import redis

from collection.refresh import MIN_INTERVAL_MS, refresh_enqueue, refresh_started
from tests.services import HOW_TO_RUN_SERVICES, redis_reachable, require


@pytest.fixture
def broker(settings):
    require(redis_reachable(), "Redis", HOW_TO_RUN_SERVICES)
    client = redis.Redis.from_url(settings.REDIS_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    # A study id no test database holds: a worker that meets these messages finds no study.
    study_id = 10**12 + secrets.randbelow(10**6)
    yield client, queue, study_id
    refresh_started(study_id=study_id, quiet=True)


def test_a_burst_sends_one_message_until_the_refresh_starts(broker):
    client, queue, study_id = broker
    before = client.llen(queue)
    sent = [refresh_enqueue(study_id=study_id) for _ in range(5)]
    assert sent == [True, False, False, False, False]
    assert client.llen(queue) == before + 1
    # The task clears the marker before it reads labels: the next label asks again.
    refresh_started(study_id=study_id)
    assert refresh_enqueue(study_id=study_id) is True
    assert client.llen(queue) == before + 2


def _newest_eta(client, queue) -> str | None:
    # Celery pushes on the left of the list and its workers pop from the right.
    return json.loads(client.lindex(queue, 0))["headers"]["eta"]


def test_a_message_after_a_recent_start_waits_out_the_interval(broker):
    client, queue, study_id = broker
    assert refresh_enqueue(study_id=study_id) is True
    assert _newest_eta(client, queue) is None  # no refresh started lately: at once
    refresh_started(study_id=study_id)
    assert refresh_enqueue(study_id=study_id) is True
    assert _newest_eta(client, queue) is not None  # due once the start is not recent
    assert (
        0 < client.pttl(f"counterpoint:collection:refresh-recent:{study_id}") <= (MIN_INTERVAL_MS)
    )


def test_without_redis_every_label_sends_its_message(broker, settings):
    client, queue, study_id = broker
    before = client.llen(queue)
    settings.REDIS_URL = ""  # the embedded defaults: no marker to share
    assert [refresh_enqueue(study_id=study_id) for _ in range(3)] == [True, True, True]
    assert client.llen(queue) == before + 3


def test_an_unreachable_redis_is_logged_not_raised(broker, settings, caplog):
    _, _, study_id = broker
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    assert refresh_enqueue(study_id=study_id) is False
    assert "could not enqueue analysis.refresh_study" in caplog.text
