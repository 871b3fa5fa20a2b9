"""API tokens: made for a researcher, shown once, stored as a keyed hash, revocable."""

import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from annotators.services import external_id_hash
from collection.models import ApiToken

_SCOPE = "api-token"
# last_used_at is written at most this often per token, not on every request.
_TOUCH_EVERY = timedelta(minutes=1)


def _hash(token: str) -> str:
    return external_id_hash(token, scope=_SCOPE)


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the record and the token itself (not kept anywhere)."""
    token = "cp_" + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user, name=name[:100], prefix=token[:10], token_hash=_hash(token)
    )
    return record, token


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_token_user(*, token: str) -> User | None:
    """The active researcher behind a token, or None (unknown, revoked, or its account
    disabled or no longer staff)."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(token.strip()), revoked_at__isnull=True)
        .first()
    )
    if record is None or not (record.user.is_active and record.user.is_staff):
        return None
    now = timezone.now()
    if record.last_used_at is None or now - record.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user
