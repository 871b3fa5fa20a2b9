"""Celery adapters: ids in, one service call, retries and time limits here."""

from celery import shared_task

from analysis.services import refresh_sweep, studies_rebuild, study_refresh_request
from collection.refresh import refresh_pending_clear

# The refresh queued behind one in flight for its study asks again this much later.
BUSY_RETRY_SECONDS = 0.25


@shared_task(name="analysis.refresh_study", bind=True, acks_late=True, max_retries=None)
def refresh_study(self, study_id: int, trigger: str = "label", queued: bool = False) -> str:
    # Before any label is read: a label committed from here on sends its own message.
    refresh_pending_clear(study_id=study_id)
    outcome = study_refresh_request(study_id=study_id, trigger=trigger, queued=queued)
    if outcome == "busy":
        kwargs = {"trigger": trigger, "queued": True}
        raise self.retry(countdown=BUSY_RETRY_SECONDS, kwargs=kwargs)
    return outcome


@shared_task(name="analysis.refresh_sweep", acks_late=True)
def sweep_missed_refreshes() -> int:
    return len(refresh_sweep())


@shared_task(name="analysis.rebuild_all", acks_late=True)
def rebuild_all() -> int:
    return len(studies_rebuild())
