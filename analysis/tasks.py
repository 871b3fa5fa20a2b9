"""Celery adapters: ids in, one service call, retries and time limits here."""

from celery import shared_task

from analysis.services import refresh_sweep, studies_rebuild, study_refresh_request

# A refresh that finds another in flight for its study comes back this much later; by
# then the other one usually covered its labels and it returns at once.
BUSY_RETRY_SECONDS = 0.25


@shared_task(name="analysis.refresh_study", bind=True, acks_late=True, max_retries=None)
def refresh_study(self, study_id: int, trigger: str = "label") -> str:
    outcome = study_refresh_request(study_id=study_id, trigger=trigger)
    if outcome == "busy":
        raise self.retry(countdown=BUSY_RETRY_SECONDS)
    return outcome


@shared_task(name="analysis.refresh_sweep", acks_late=True)
def sweep_missed_refreshes() -> int:
    return len(refresh_sweep())


@shared_task(name="analysis.rebuild_all", acks_late=True)
def rebuild_all() -> int:
    return len(studies_rebuild())
