"""Celery adapters: ids in, one service call, retries and time limits here."""

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import connection

from analysis.coalesce import queued_clear
from analysis.exports import export_build_with_estimates
from analysis.services import refresh_sweep, studies_rebuild, study_refresh_request
from collection.refresh import refresh_started

logger = logging.getLogger(__name__)

# The refresh queued behind one in flight asks again after 0.25 s, doubling up to 5 s: it
# outwaits a refresh in flight, and the lease of a dead worker (15 s), many times over.
BUSY_RETRY_FIRST_SECONDS = 0.25
BUSY_RETRY_MAX_SECONDS = 5.0
BUSY_RETRIES = 30


def busy_countdown(retries: int) -> float:
    return min(BUSY_RETRY_FIRST_SECONDS * 2**retries, BUSY_RETRY_MAX_SECONDS)


@shared_task(name="analysis.refresh_study", bind=True, acks_late=True, max_retries=BUSY_RETRIES)
def refresh_study(self, study_id: int, trigger: str = "label", queued: bool = False) -> str:
    # Before any label is read: a label committed from here on sends its own message.
    refresh_started(study_id=study_id)
    outcome = study_refresh_request(study_id=study_id, trigger=trigger, queued=queued)
    if outcome != "busy":
        return outcome
    if self.request.retries >= BUSY_RETRIES:
        # Let the next label queue a refresh again; the sweep covers what is left.
        queued_clear(study_id=study_id)
        logger.warning("study %s: refresh gave up after %d retries", study_id, BUSY_RETRIES)
        return "gave-up"
    kwargs = {"trigger": trigger, "queued": True}
    raise self.retry(countdown=busy_countdown(self.request.retries), kwargs=kwargs)


@worker_ready.connect
def catch_up_on_start(**_kwargs) -> None:
    """A worker that starts, or restarts after a crash, asks at once for a refresh of every
    study whose labels no refresh covers. A killed worker can take with it a message it had
    already taken off the broker (seen in CI: the message sent while its refresh hung never
    reached the next worker); it comes back only after the visibility timeout, and the
    label that sent it set the study's pending marker, so nothing else would ask for a
    refresh before the minute sweep."""
    try:
        refresh_sweep(min_age_seconds=0, trigger="worker-start")
    except Exception:  # noqa: BLE001 - a database or broker outage: the beat sweep covers it
        logger.exception("worker start: the refresh sweep failed; the beat sweep will cover it")
    finally:
        connection.close()  # the pool's later children must not inherit it


@shared_task(name="analysis.refresh_sweep", acks_late=True)
def sweep_missed_refreshes() -> int:
    return len(refresh_sweep())


@shared_task(name="analysis.rebuild_all", acks_late=True)
def rebuild_all() -> int:
    return len(studies_rebuild())


# A million labels take tens of seconds; the limit leaves room for a busy machine.
@shared_task(name="analysis.export_build", acks_late=True, time_limit=3600, soft_time_limit=3500)
def export_build(export_id: int) -> str:
    return export_build_with_estimates(export_id=export_id).status
