"""Invitation links: single-use ways into a study run outside Prolific. The token is
shown once, when made; only its keyed hash is stored, so a database leak opens nothing."""

import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotators.models import Annotator
from annotators.services import annotator_for_external_id_hash, external_id_hash
from collection.errors import EnrollmentRefused
from collection.models import Enrollment, Invitation, Study
from collection.services.enrollments import enrollment_start

INVITE_PARAMETER = "invite"
MAX_INVITATIONS_AT_ONCE = 1000
_SCOPE = "invitation"
INVITATION_USED = (
    "this invitation link has already been used: each link admits one person. Continue in "
    "the browser where you first opened it, or ask the researcher for a link of your own"
)


def _token_hash(token: str) -> str:
    return external_id_hash(token, scope=_SCOPE)


def invitations_create(
    *, study: Study, count: int, note: str = "", created_by: User | None = None
) -> list[str]:
    """Make ``count`` invitations; returns their tokens, which are not kept anywhere."""
    if not 1 <= count <= MAX_INVITATIONS_AT_ONCE:
        raise ValueError(f"make between 1 and {MAX_INVITATIONS_AT_ONCE} invitations at once")
    tokens = [secrets.token_urlsafe(18) for _ in range(count)]
    Invitation.objects.bulk_create(
        Invitation(study=study, token_hash=_token_hash(t), note=note, created_by=created_by)
        for t in tokens
    )
    return tokens


def invitation_link(*, base_entry_url: str, token: str) -> str:
    return f"{base_entry_url}?{INVITE_PARAMETER}={token}"


def invitation_for_token(*, study: Study, token: str) -> Invitation:
    """The study's invitation behind a token (used or not), or EnrollmentRefused."""
    invitation = Invitation.objects.filter(
        study=study, token_hash=_token_hash(token.strip())
    ).first()
    if invitation is None:
        raise EnrollmentRefused(
            "this invitation link is not valid for this study: check that the whole link "
            "was copied, or ask the researcher who sent it for a new one"
        )
    return invitation


def invitation_enter(*, study: Study, invitation_id: int) -> Enrollment:
    """The enrollment an invitation opens: made on its first use, under the invitation's
    row lock so two browsers racing on one link cannot both get in."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id, study=study)
        if invitation.enrollment_id is not None:
            raise EnrollmentRefused(INVITATION_USED)
        annotator = annotator_for_external_id_hash(
            digest=invitation.token_hash, recruitment=Annotator.Recruitment.INVITATION
        )
        enrollment = enrollment_start(study=study, annotator=annotator)
        invitation.enrollment = enrollment
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["enrollment", "used_at"])
    return enrollment
