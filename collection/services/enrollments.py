"""Writes for an annotator's place in a study, and for the study's running state."""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from annotators.models import Annotator
from annotators.services import (
    annotator_create_anonymous,
    annotator_for_external_id_hash,
    consent_record,
    external_id_hash,
)
from collection.errors import EnrollmentClosed, EnrollmentRefused
from collection.models import Enrollment, Study
from collection.services.assignments import assignments_release

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


@dataclass(frozen=True)
class ProlificArrival:
    """What a Prolific link says about its participant, with the id already hashed: the
    raw PROLIFIC_PID is never stored, not even in a session."""

    pid_hash: str
    study_id: str
    session_id: str


def prolific_arrival(*, study: Study, pid: str, study_id: str, session_id: str) -> ProlificArrival:
    """Hash the participant's id in the study's scope (a per-study pseudonym). A link
    without SESSION_ID is refused: the session is what binds the place to the person."""
    if not session_id.strip():
        raise EnrollmentRefused(
            "this link has a PROLIFIC_PID but no SESSION_ID; open the study from Prolific "
            "again so the link carries both"
        )
    return ProlificArrival(
        pid_hash=external_id_hash(pid, scope=f"study:{study.pk}"),
        study_id=study_id.strip()[:100],
        session_id=session_id.strip()[:100],
    )


def enrollment_enter(*, study: Study, arrival: ProlificArrival | None) -> Enrollment:
    """The enrollment of a participant arriving at the study: an anonymous one for an open
    link, the participant's own for a Prolific arrival.

    A Prolific id alone takes over nothing: a participant already enrolled is let back in
    only with the same Prolific STUDY_ID and SESSION_ID as their first entry (both come
    from Prolific and are known to the participant alone); otherwise EnrollmentRefused.
    """
    if arrival is None:
        return enrollment_start(study=study, annotator=annotator_create_anonymous())
    annotator = annotator_for_external_id_hash(
        digest=arrival.pid_hash, recruitment=Annotator.Recruitment.PROLIFIC
    )
    enrollment = enrollment_start(
        study=study,
        annotator=annotator,
        prolific_study_id=arrival.study_id,
        prolific_session_id=arrival.session_id,
    )
    if (enrollment.prolific_study_id, enrollment.prolific_session_id) != (
        arrival.study_id,
        arrival.session_id,
    ):
        logger.warning("study %s: entry refused, a known id with another session", study.pk)
        raise EnrollmentRefused(
            "this Prolific id is already taking part in this study in another session; "
            "continue in the browser where you started, or return the study on Prolific"
        )
    return enrollment


def enrollment_consent(*, enrollment: Enrollment, consent_text: str | None = None) -> bool:
    """Record the participant's consent (and, given ``consent_text``, the text they agreed
    to, in the same transaction); True if the enrollment is consented, now or before.

    False, and nothing written, when the participant has declined or returned: a decline
    is final, so a second browser tab cannot turn it into a consent.
    """
    with transaction.atomic():
        consented = Enrollment.objects.filter(
            pk=enrollment.pk,
            consented_at__isnull=True,
            declined_at__isnull=True,
            returned_at__isnull=True,
        ).update(consented_at=timezone.now())
        if consented and consent_text is not None:
            consent_record(
                annotator=enrollment.annotator, scope=enrollment.study.slug, text=consent_text
            )
    enrollment.refresh_from_db(fields=["consented_at", "declined_at", "returned_at"])
    return enrollment.consented_at is not None and not enrollment.ended


def enrollment_decline(*, enrollment: Enrollment) -> bool:
    """Record that the participant declined consent, and nothing else (no consent record,
    no covariates, no labels); True if the enrollment is declined, now or before.

    False, and nothing written, once the participant has consented: from then on the way
    out is enrollment_return.
    """
    Enrollment.objects.filter(
        pk=enrollment.pk, consented_at__isnull=True, declined_at__isnull=True
    ).update(declined_at=timezone.now())
    enrollment.refresh_from_db(fields=["consented_at", "declined_at", "returned_at"])
    return enrollment.declined_at is not None


def enrollment_return(*, enrollment: Enrollment) -> bool:
    """The participant stops part-way and returns the study: mark the enrollment returned
    and give its open pair back to the pool, so another annotator can be served that
    stimulus. True if the enrollment is returned, now or before.

    False, and nothing written, when there is nothing to return: not consented yet (the
    way out is enrollment_decline), already completed, or declined. The labels given
    before are kept. Locks the enrollment row first, as the engine and the label service
    do, so a label or a draw of this annotator is either before the return or refused.
    """
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().filter(pk=enrollment.pk).first()
        if locked is None:
            return False
        if locked.returned_at is None:
            if locked.consented_at is None or locked.completed_at or locked.declined_at:
                return False
            Enrollment.objects.filter(pk=enrollment.pk).update(returned_at=timezone.now())
            released = assignments_release(enrollment_id=enrollment.pk)
            logger.info("enrollment %s returned, %s pair(s) released", enrollment.pk, released)
    enrollment.refresh_from_db(fields=["returned_at"])
    return True


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
