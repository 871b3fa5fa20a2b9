"""Writes for an annotator's place in a study, and for the study's running state."""

import logging

from django.utils import timezone

from annotators.models import Annotator
from collection.errors import EnrollmentClosed
from collection.models import Enrollment, Study

logger = logging.getLogger(__name__)


def enrollment_start(
    *,
    study: Study,
    annotator: Annotator,
    prolific_study_id: str = "",
    prolific_session_id: str = "",
) -> Enrollment:
    if study.status != Study.Status.RUNNING:
        raise EnrollmentClosed(f"the study '{study.title}' is {study.status}, not running")
    enrollment, _ = Enrollment.objects.get_or_create(
        study=study,
        annotator=annotator,
        defaults={
            "prolific_study_id": prolific_study_id[:100],
            "prolific_session_id": prolific_session_id[:100],
        },
    )
    return enrollment


def enrollment_consent(*, enrollment: Enrollment) -> None:
    if enrollment.consented_at is None:
        Enrollment.objects.filter(pk=enrollment.pk, consented_at__isnull=True).update(
            consented_at=timezone.now()
        )
        enrollment.refresh_from_db(fields=["consented_at"])


def study_pause(*, study_id: int, reason: str) -> bool:
    """Pause a running study (no new enrollments or assignments); True if it was running.

    Labels for assignments already served are still accepted, so no work is lost.
    """
    paused = Study.objects.filter(pk=study_id, status=Study.Status.RUNNING).update(
        status=Study.Status.PAUSED
    )
    if paused:
        logger.info("study %s paused: %s", study_id, reason)
    return bool(paused)
