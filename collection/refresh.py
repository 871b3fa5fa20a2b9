"""Asking the analysis workers to refresh a study's estimates once a label commits.

The task is sent by its registered name, so nothing here imports the analysis app.

With Redis, a per-study *pending* marker keeps at most one refresh message waiting to
start: a label committed while one waits is covered by it, because the task clears the
marker before it reads any label (``analysis.tasks.refresh_study``). A burst of labels
then sends one message, not one each, which spares the web process the cost of
publishing (about 1 ms a label) and the worker a queue of refreshes with nothing to do.
The marker expires after PENDING_SECONDS, so a message lost after the marker was set
delays the study's refresh by at most that long (and the minute sweep of uncovered
labels catches it regardless). Without Redis (the embedded defaults) every label sends
its own message.
"""

import logging
from functools import cache

import redis
from celery import current_app
from django.conf import settings

logger = logging.getLogger(__name__)

REFRESH_TASK = "analysis.refresh_study"
PENDING_SECONDS = 30


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _pending_key(study_id: int) -> str:
    return f"counterpoint:collection:refresh-pending:{study_id}"


def refresh_enqueue(*, study_id: int) -> bool:
    """Ask a worker to refresh the study, unless a refresh that has not started yet will
    cover the labels committed so far; True if a message was sent. A broker outage is
    logged, never raised: the label is already committed and the sweep covers it."""
    try:
        if settings.REDIS_URL and not _redis(settings.REDIS_URL).set(
            _pending_key(study_id), 1, nx=True, ex=PENDING_SECONDS
        ):
            return False
        current_app.send_task(REFRESH_TASK, args=[study_id])
        return True
    except Exception:
        logger.exception("could not enqueue %s for study %s", REFRESH_TASK, study_id)
        refresh_pending_clear(study_id=study_id, quiet=True)
        return False


def refresh_pending_clear(*, study_id: int, quiet: bool = False) -> None:
    """Let the next label send a message again. The refresh task calls this before it
    reads any label, so every label committed before the call is covered by that task."""
    if not settings.REDIS_URL:
        return
    try:
        _redis(settings.REDIS_URL).delete(_pending_key(study_id))
    except redis.RedisError:
        if not quiet:
            raise
