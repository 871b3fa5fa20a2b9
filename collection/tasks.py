"""Celery adapters for the collection app: ids in, one service call."""

from celery import shared_task
from django.conf import settings

from collection.models import WebhookDelivery
from collection.services import assignment_expire
from collection.services.webhooks import (
    MAX_ATTEMPTS,
    retry_countdown,
    webhook_deliver,
    webhooks_requeue,
)


# A task that sets time_limit must set soft_time_limit below it: the global soft limit
# (CELERY_TASK_SOFT_TIME_LIMIT, 540 s) above a 120 s hard limit makes beat refuse the entry.
@shared_task(
    name="collection.assignments_expire", acks_late=True, time_limit=120, soft_time_limit=100
)
def assignments_expire() -> int:
    """Return abandoned assignments to the pool (beat). assignment_next also returns a
    study's overdue assignments before it draws, so this sweep is the backstop that
    keeps live counts honest for studies nobody is requesting from."""
    total = 0
    while (n := assignment_expire(limit=500)) == 500:
        total += n
    return total + n


@shared_task(
    name="collection.webhook_deliver", bind=True, acks_late=True, time_limit=60, soft_time_limit=50
)
def webhook_deliver_task(self, delivery_id: int) -> bool | None:
    """One attempt at a webhook delivery; a failure comes back later, with backoff."""
    delivered = webhook_deliver(delivery_id=delivery_id)
    if delivered is False:
        attempts = WebhookDelivery.objects.get(pk=delivery_id).attempts
        raise self.retry(countdown=retry_countdown(attempts), max_retries=MAX_ATTEMPTS)
    return delivered


@shared_task(
    name="collection.webhooks_requeue", acks_late=True, time_limit=120, soft_time_limit=100
)
def webhooks_requeue_task() -> int:
    """Re-queue webhook deliveries left idle (beat)."""
    return webhooks_requeue(idle_seconds=settings.WEBHOOK_IDLE_SECONDS)
