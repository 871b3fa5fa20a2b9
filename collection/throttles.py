"""Rate limits for the annotator side: new sessions per client address, labels per
enrollment. Counters live in the cache (Redis in production, per process on the embedded
defaults); a cache outage lets requests through rather than refusing participants."""

import logging
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.throttling import SimpleRateThrottle

from config.client_address import client_address

logger = logging.getLogger(__name__)


def window_hit(*, scope: str, ident: str, limit: int, window: int) -> int | None:
    """Count one request in the current fixed window; None if allowed, else the seconds
    until the window ends (the Retry-After)."""
    now = int(time.time())
    start = now - now % window
    key = f"counterpoint:throttle:{scope}:{ident}:{start}"
    try:
        cache.add(key, 0, timeout=window + 1)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001 - any cache failure: let the request through
        logger.warning("throttle %s: cache unavailable, not limiting", scope)
        return None
    return None if count <= limit else start + window - now


def throttle_new_sessions(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """At most ENTRY_RATE_PER_MINUTE new sessions (entry POSTs) per client address a
    minute: 429 with Retry-After and a page that says when to try again."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST":
            wait = window_hit(
                scope="entry",
                ident=client_address(request),
                limit=settings.ENTRY_RATE_PER_MINUTE,
                window=60,
            )
            if wait is not None:
                response = render(
                    request, "collection/throttled.html", {"wait": max(wait, 1)}, status=429
                )
                response["Retry-After"] = str(max(wait, 1))
                return response
        return view(request, *args, **kwargs)

    return wrapper


class EnrollmentRateThrottle(SimpleRateThrottle):
    """Label submissions per enrollment (LABEL_RATE, e.g. '60/min'): far above a person's
    pace, far below a script's."""

    scope = "label"

    def get_rate(self) -> str:
        return settings.LABEL_RATE

    def get_cache_key(self, request, view) -> str | None:
        enrollment_id = getattr(request.user, "enrollment_id", None)
        return None if enrollment_id is None else f"counterpoint:throttle:label:{enrollment_id}"

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - any cache failure: let the label through
            logger.warning("label throttle: cache unavailable, not limiting")
            return True
