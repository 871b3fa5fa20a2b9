"""Rate limits for the annotator side: new sessions per client address, labels per
enrollment, both DRF throttles (sliding windows in the cache: Redis in production, per
process on the embedded defaults). A cache outage lets requests through rather than
refusing participants."""

import logging
import math
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle

from config.client_address import client_address

logger = logging.getLogger(__name__)


class _OpenOnCacheFailure(SimpleRateThrottle):
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - any cache failure: let the request through
            logger.warning("%s throttle: cache unavailable, not limiting", self.scope)
            return True


class EntryRateThrottle(_OpenOnCacheFailure):
    """New sessions per client address (ENTRY_RATE_PER_MINUTE a minute)."""

    scope = "entry"

    def get_rate(self) -> str:
        return f"{settings.ENTRY_RATE_PER_MINUTE}/min"

    def get_cache_key(self, request, view) -> str:
        return f"counterpoint:throttle:entry:{client_address(request)}"


class EnrollmentRateThrottle(_OpenOnCacheFailure):
    """Label submissions per enrollment (LABEL_RATE, e.g. '60/min'): far above a person's
    pace, far below a script's."""

    scope = "label"

    def get_rate(self) -> str:
        return settings.LABEL_RATE

    def get_cache_key(self, request, view) -> str | None:
        enrollment_id = getattr(request.user, "enrollment_id", None)
        return None if enrollment_id is None else f"counterpoint:throttle:label:{enrollment_id}"


def throttle_new_sessions(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Entry POSTs (each starts a session) within EntryRateThrottle; beyond it, 429 with
    Retry-After and a page that says when to try again."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            throttle = EntryRateThrottle()
            if not throttle.allow_request(request, None):
                wait = max(1, math.ceil(throttle.wait() or 1))
                response = render(request, "collection/throttled.html", {"wait": wait}, status=429)
                response["Retry-After"] = str(wait)
                return response
        return view(request, *args, **kwargs)

    return wrapper
