"""One refresh in flight per study: a short lease in Redis (REDIS_URL set) or in the
database, renewed while the refresh runs.

A label commit sends one ``analysis.refresh_study`` message. The task skips when the
study's sums already cover every committed label, and otherwise takes this lease. A
message that finds the lease held claims the study's "queued" flag and is retried with
backoff (it is the one refresh queued; each retry renews the flag); any further message
that finds the lease held and the flag taken is dropped, because the queued refresh
clears the flag before it reads the labels and so covers them. A burst of labels thus
costs one refresh in flight plus one queued, never one per label.

The lease lives LEASE_SECONDS and a heartbeat thread renews it every HEARTBEAT_SECONDS
while its owner runs, so a worker that dies (SIGKILL, lost machine) frees the study
within LEASE_SECONDS, however long a refresh may take. The queued flag lives
QUEUED_SECONDS unless its retrying owner renews it at each retry (at most 5 s apart), so
the flag of a killed worker's queued refresh drops messages for seconds, not minutes. The
lease carries an owner token, so a slow owner whose lease expired can neither renew nor
release a successor's.

The lease only keeps workers from queueing on each other: correctness does not depend on
it. Every write to a study's sums runs under the RefreshState row lock in one snapshot
(``analysis.services``), so two refreshes that both believe they hold the study still
fold every label exactly once.
"""

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from analysis.models import RefreshLease
from config.redis_client import redis_client

logger = logging.getLogger(__name__)

LEASE_SECONDS = 15.0
HEARTBEAT_SECONDS = 5.0
QUEUED_SECONDS = 12.0  # the longest wait between retries (5 s) with room for a busy queue
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


def _redis() -> redis.Redis:
    return redis_client(settings.REDIS_URL, timeout=5)


def _key(study_id: int) -> str:
    return f"counterpoint:analysis:refresh-lock:{study_id}"


def _queued_key(study_id: int) -> str:
    return f"counterpoint:analysis:refresh-queued:{study_id}"


def lock_backend() -> str:
    return "redis" if settings.REDIS_URL else "database"


def _lease_row(study_id: int):
    RefreshLease.objects.get_or_create(study_id=study_id)
    return RefreshLease.objects.filter(study_id=study_id)


def _acquire(study_id: int, token: str) -> bool:
    if lock_backend() == "redis":
        return bool(_redis().set(_key(study_id), token, nx=True, px=int(LEASE_SECONDS * 1000)))
    now = timezone.now()
    # One conditional UPDATE: atomic on PostgreSQL and SQLite alike.
    return bool(
        _lease_row(study_id)
        .filter(Q(held_until__isnull=True) | Q(held_until__lt=now))
        .update(held_until=now + timedelta(seconds=LEASE_SECONDS), token=token)
    )


def _renew(study_id: int, token: str) -> bool:
    if lock_backend() == "redis":
        return bool(_redis().eval(_RENEW, 1, _key(study_id), token, int(LEASE_SECONDS * 1000)))
    until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    renewed = RefreshLease.objects.filter(study_id=study_id, token=token)
    return bool(renewed.update(held_until=until))


def _release(study_id: int, token: str) -> None:
    if lock_backend() == "redis":
        _redis().eval(_RELEASE, 1, _key(study_id), token)
    else:
        RefreshLease.objects.filter(study_id=study_id, token=token).update(
            held_until=None, token=""
        )


def _heartbeat(study_id: int, token: str, stop: threading.Event) -> None:
    try:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                if not _renew(study_id, token):
                    logger.warning("study %s: refresh lease lost mid-refresh", study_id)
                    return
            except (redis.RedisError, DatabaseError):
                logger.warning("study %s: could not renew the refresh lease", study_id)
    finally:
        if lock_backend() == "database":
            connection.close()  # this thread's own connection


@contextmanager
def refresh_lock(*, study_id: int) -> Iterator[bool]:
    """Yield True while holding the study's refresh lease (renewed in the background), False
    if another holds it."""
    token = secrets.token_hex(16)
    held = _acquire(study_id, token)
    stop = threading.Event()
    beat = None
    if held:
        beat = threading.Thread(
            target=_heartbeat, args=(study_id, token, stop), name="refresh-lease", daemon=True
        )
        beat.start()
    try:
        yield held
    finally:
        if beat is not None:
            stop.set()
            beat.join(timeout=LEASE_SECONDS)
            _release(study_id, token)


def lease_holder(*, study_id: int) -> str | None:
    """The token holding the study's lease now, if any (monitoring and tests)."""
    if lock_backend() == "redis":
        value = _redis().get(_key(study_id))
        return value.decode() if isinstance(value, bytes) else value
    row = RefreshLease.objects.filter(study_id=study_id, held_until__gte=timezone.now()).first()
    return row.token if row else None


def queued_claim(*, study_id: int) -> bool:
    """Mark a refresh as queued behind the one in flight; False if one already is. The
    flag expires (QUEUED_SECONDS) unless its owner renews it, so a lost or killed queued
    refresh cannot block the study: the next label or the sweep then gets through."""
    if lock_backend() == "redis":
        return bool(_redis().set(_queued_key(study_id), 1, nx=True, px=int(QUEUED_SECONDS * 1000)))
    now = timezone.now()
    return bool(
        _lease_row(study_id)
        .filter(Q(queued_until__isnull=True) | Q(queued_until__lt=now))
        .update(queued_until=now + timedelta(seconds=QUEUED_SECONDS))
    )


def queued_keep(*, study_id: int) -> None:
    """The queued refresh is still waiting: extend its flag."""
    if lock_backend() == "redis":
        _redis().set(_queued_key(study_id), 1, px=int(QUEUED_SECONDS * 1000))
    else:
        until = timezone.now() + timedelta(seconds=QUEUED_SECONDS)
        _lease_row(study_id).update(queued_until=until)


def queued_clear(*, study_id: int) -> None:
    """Called by the refresh that holds the lease before it reads the labels, and by a
    queued refresh that gives up."""
    if lock_backend() == "redis":
        _redis().delete(_queued_key(study_id))
    else:
        RefreshLease.objects.filter(study_id=study_id).update(queued_until=None)
