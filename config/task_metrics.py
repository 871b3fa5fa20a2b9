"""Task outcomes counted across every Celery worker, for /metrics.

A worker is not scraped (it serves no HTTP), and its processes come and go, so each
outcome (succeeded, retried, failed) is counted in one Redis hash that any web process
reads at scrape time (config.metrics). Counting never gets in the way of the task: with
Redis unreachable the count is skipped, and on the embedded broker there is none.
"""

import contextlib

import redis
from celery.signals import task_failure, task_retry, task_success
from django.conf import settings

KEY = "counterpoint:task_outcomes"
OUTCOMES = ("succeeded", "retried", "failed")


def _client() -> redis.Redis | None:
    if not settings.REDIS_URL:
        return None
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)


def outcome_count(task: str, outcome: str) -> None:
    client = _client()
    if client is None:
        return
    # The task's own work matters more than its count.
    with contextlib.suppress(redis.RedisError):
        client.hincrby(KEY, f"{task}|{outcome}", 1)


def outcome_counts() -> dict[tuple[str, str], int]:
    """(task, outcome) -> count, or nothing when Redis is not there."""
    client = _client()
    if client is None:
        return {}
    try:
        raw = client.hgetall(KEY)
    except redis.RedisError:
        return {}
    counts = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else field
        task, _, outcome = name.rpartition("|")
        counts[(task, outcome)] = int(value)
    return counts


def _name(sender: object) -> str:
    return getattr(sender, "name", None) or str(sender)


@task_success.connect
def _succeeded(sender: object = None, **_: object) -> None:
    outcome_count(_name(sender), "succeeded")


@task_retry.connect
def _retried(sender: object = None, **_: object) -> None:
    outcome_count(_name(sender), "retried")


@task_failure.connect
def _failed(sender: object = None, **_: object) -> None:
    outcome_count(_name(sender), "failed")
