"""The annotator API's credential: a signed cookie that names the enrollment.

The entry page sets it next to the page session, scoped to the study's API path. It is
stateless: an API request reads no session (a round trip to Redis or the database, and
the largest share of a request's CPU after the draw itself), yet the value cannot be
forged, and the signature's salt names the study, so a cookie from one study opens no
other. Requests still need the CSRF token, as the pages do.
"""

import posixpath

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

COOKIE = "counterpoint_enrollment"


def _salt(slug: str) -> str:
    return f"counterpoint.enrollment:{slug}"


def _api_path(slug: str) -> str:
    # The folder of the study's API endpoints: /api/studies/<slug>/
    return posixpath.dirname(reverse("collection_api:next", args=[slug]).rstrip("/")) + "/"


def enrollment_cookie_set(response: HttpResponse, *, slug: str, enrollment_id: int) -> None:
    response.set_signed_cookie(
        COOKIE,
        str(enrollment_id),
        salt=_salt(slug),
        max_age=settings.SESSION_COOKIE_AGE,
        path=_api_path(slug),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def enrollment_cookie_read(request: HttpRequest, *, slug: str) -> int | None:
    """The enrollment the request's cookie names for this study; None if it has none, or
    one that is forged, from another study or older than SESSION_COOKIE_AGE."""
    value = request.get_signed_cookie(
        COOKIE, default=None, salt=_salt(slug), max_age=settings.SESSION_COOKIE_AGE
    )
    return int(value) if value is not None and value.isdigit() else None
