"""The admin's answer to a locked-out sign-in: 429 with Retry-After (the cool-off left),
and a page that says when to try again."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    seconds = int(settings.AXES_COOLOFF_TIME * 3600)
    minutes = max(1, round(seconds / 60))
    response = HttpResponse(
        "Too many wrong passwords for this account from your address: sign-in is locked "
        f"for {minutes} minutes. Try again later, or ask an administrator to unlock it.",
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response
