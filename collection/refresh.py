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

A study's refreshes also start at most every MIN_INTERVAL_MS: a refresh marks its start
with a *recent* marker that expires after the interval, and a message sent while it is
there waits out the rest of it (a countdown). Under a stream of labels a refresh then
covers a batch instead of three or four, for about the same worker time (some 20 ms a
refresh, whatever its size), and an estimate still follows its label within a quarter
of a second.
"""

import logging

import redis
from celery import current_app
from django.conf import settings

from config.redis_client import redis_client

logger = logging.getLogger(__name__)

REFRESH_TASK = "analysis.refresh_study"
PENDING_SECONDS = 30
MIN_INTERVAL_MS = 250


def _redis(url: str) -> redis.Redis:
    return redis_client(url, timeout=2)


def _pending_key(study_id: int) -> str:
    return f"counterpoint:collection:refresh-pending:{study_id}"


def _recent_key(study_id: int) -> str:
    return f"counterpoint:collection:refresh-recent:{study_id}"


def refresh_enqueue(*, study_id: int) -> bool:
    """Ask a worker to refresh the study, unless a refresh that has not started yet will
    cover the labels committed so far; True if a message was sent. A broker outage is
    logged, never raised: the label is already committed and the sweep covers it."""
    try:
        countdown = None
        if settings.REDIS_URL:
            # One round trip: the pending marker, and how long the last start is recent.
            pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
            pipe.set(_pending_key(study_id), 1, nx=True, ex=PENDING_SECONDS)
            pipe.pttl(_recent_key(study_id))
            first, recent_ms = pipe.execute()
            if not first:
                return False
            countdown = recent_ms / 1000 if recent_ms > 0 else None
        current_app.send_task(REFRESH_TASK, args=[study_id], countdown=countdown)
        return True
    except Exception:
        logger.exception("could not enqueue %s for study %s", REFRESH_TASK, study_id)
        refresh_started(study_id=study_id, quiet=True, recent=False)
        return False


def refresh_started(*, study_id: int, quiet: bool = False, recent: bool = True) -> None:
    """Let the next label send a message again, due once this start is no longer recent.
    The refresh task calls this before it reads any label, so every label committed
    before the call is covered by that task."""
    if not settings.REDIS_URL:
        return
    try:
        pipe = _redis(settings.REDIS_URL).pipeline(transaction=False)
        pipe.delete(_pending_key(study_id))
        if recent:
            pipe.set(_recent_key(study_id), 1, px=MIN_INTERVAL_MS)
        pipe.execute()
    except redis.RedisError:
        if not quiet:
            raise
