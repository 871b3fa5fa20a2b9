"""One refresh in flight per study: a lock in Redis (REDIS_URL set) or in the database.

A label commit sends one ``analysis.refresh_study`` message. The task skips when the
study's sums already cover every committed label, and otherwise takes this lock. A
message that finds the lock held claims the study's "queued" flag and is retried shortly
(it is the one refresh queued); any further message that finds the lock held and the flag
taken is dropped, because the queued refresh clears the flag before it reads the labels
and so covers them. A burst of labels thus costs one refresh in flight plus one queued,
never one per label.

Both backends are real cross-process locks with an expiry (a crashed worker cannot hold
a study forever) and an owner token (a slow worker whose lock expired cannot release a
successor's lock). There is no in-process fallback.
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache

import redis
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from analysis.models import RefreshState

# Longer than any refresh may run (the task's hard time limit), so expiry means a crash.
LOCK_SECONDS = settings.CELERY_TASK_TIME_LIMIT
QUEUED_SECONDS = 60
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _key(study_id: int) -> str:
    return f"counterpoint:analysis:refresh-lock:{study_id}"


def _queued_key(study_id: int) -> str:
    return f"counterpoint:analysis:refresh-queued:{study_id}"


def _acquire_redis(study_id: int, token: str) -> bool:
    return bool(_redis().set(_key(study_id), token, nx=True, ex=LOCK_SECONDS))


def _release_redis(study_id: int, token: str) -> None:
    _redis().eval(_RELEASE, 1, _key(study_id), token)


def _acquire_db(study_id: int, token: str) -> bool:
    RefreshState.objects.get_or_create(study_id=study_id)
    now = timezone.now()
    # One conditional UPDATE: atomic on PostgreSQL and SQLite alike.
    return bool(
        RefreshState.objects.filter(study_id=study_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + timedelta(seconds=LOCK_SECONDS), lock_token=token)
    )


def _release_db(study_id: int, token: str) -> None:
    RefreshState.objects.filter(study_id=study_id, lock_token=token).update(
        locked_until=None, lock_token=""
    )


def queued_claim(*, study_id: int) -> bool:
    """Mark a refresh as queued behind the one in flight; False if one already is. The
    flag expires (QUEUED_SECONDS) so a lost message cannot block the study: the sweep
    then catches its labels."""
    if lock_backend() == "redis":
        return bool(_redis().set(_queued_key(study_id), 1, nx=True, ex=QUEUED_SECONDS))
    now = timezone.now()
    return bool(
        RefreshState.objects.filter(study_id=study_id)
        .filter(Q(queued_until__isnull=True) | Q(queued_until__lt=now))
        .update(queued_until=now + timedelta(seconds=QUEUED_SECONDS))
    )


def queued_keep(*, study_id: int) -> None:
    """The queued refresh is still waiting: extend its flag."""
    if lock_backend() == "redis":
        _redis().set(_queued_key(study_id), 1, ex=QUEUED_SECONDS)
    else:
        until = timezone.now() + timedelta(seconds=QUEUED_SECONDS)
        RefreshState.objects.filter(study_id=study_id).update(queued_until=until)


def queued_clear(*, study_id: int) -> None:
    """Called by the refresh that holds the lock, before it reads the labels."""
    if lock_backend() == "redis":
        _redis().delete(_queued_key(study_id))
    else:
        RefreshState.objects.filter(study_id=study_id).update(queued_until=None)


def lock_backend() -> str:
    return "redis" if settings.REDIS_URL else "database"


@contextmanager
def refresh_lock(*, study_id: int) -> Iterator[bool]:
    """Yield True while holding the study's refresh lock, False if another holds it."""
    token = secrets.token_hex(16)
    redis_mode = lock_backend() == "redis"
    held = _acquire_redis(study_id, token) if redis_mode else _acquire_db(study_id, token)
    try:
        yield held
    finally:
        if held:
            (_release_redis if redis_mode else _release_db)(study_id, token)
