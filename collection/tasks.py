"""Celery adapters for the collection app: ids in, one service call."""

from celery import shared_task

from collection.services import assignment_expire


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
