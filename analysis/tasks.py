from celery import shared_task

from analysis.services import study_estimates_refresh


@shared_task(name="analysis.refresh_study", acks_late=True)
def refresh_study(study_id: int) -> int:
    return len(study_estimates_refresh(study_id=study_id))
