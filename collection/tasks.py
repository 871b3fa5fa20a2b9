"""Celery adapters for the collection app: ids in, one service call."""

from celery import shared_task

from collection.services import assignment_expire


@shared_task(name="collection.assignments_expire", acks_late=True, time_limit=120)
def assignments_expire() -> int:
    """Return abandoned assignments to the pool (beat). assignment_next also returns a
    study's overdue assignments before it draws, so this sweep is the backstop that
    keeps live counts honest for studies nobody is requesting from."""
    total = 0
    while (n := assignment_expire(limit=500)) == 500:
        total += n
    return total + n
