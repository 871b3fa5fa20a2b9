"""Thin Celery adapter: an HTTP-scored audit can take minutes, so it runs on a worker."""

from celery import shared_task

from audit.models import RewardModel
from audit.services import AuditError, audit_run
from collection.models import Study


@shared_task(name="audit.run")
def audit_run_task(reward_model_id: int, study_id: int) -> str:
    model = RewardModel.objects.get(pk=reward_model_id)
    try:
        rows = audit_run(reward_model=model, study=Study.objects.get(pk=study_id))
    except AuditError as error:
        # Nothing was stored; the audit page shows why.
        RewardModel.objects.filter(pk=model.pk).update(last_error=str(error))
        return f"failed: {error}"
    RewardModel.objects.filter(pk=model.pk).update(last_error="")
    return f"{len(rows)} interventions audited"
