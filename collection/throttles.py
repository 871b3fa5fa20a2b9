"""Rate limits for the annotator side: new sessions per client address, labels per
enrollment, both DRF throttles with sliding windows: in Redis in production (a sorted set
per client, checked in one round trip on every label), in the per-process cache on the
embedded defaults. An outage lets requests through rather than refusing participants."""

import logging
import math
import secrets
from collections.abc import Callable
from functools import cache, wraps

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.commands.core import Script
from rest_framework.throttling import SimpleRateThrottle

from config.client_address import client_address
from config.redis_client import redis_client

logger = logging.getLogger(__name__)


# Allowed: 0, the request counted. Refused: the seconds until the oldest request leaves the
# window, as a string (a Lua number would be cut to an integer); a refused request is not
# counted. Redis's clock, not the web host's: requests are timed in the order the script
# runs them, whichever host sent them.
_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(window - (now - tonumber(oldest[2])))
"""


@cache
def _window(client: redis.Redis) -> Script:
    return Script(client, _WINDOW)


_REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


def _cache_redis() -> redis.Redis:
    # The counters live where the cache lives (CACHES["default"]), with its timeouts.
    cache = settings.CACHES["default"]
    timeout = cache.get("OPTIONS", {}).get("socket_timeout", 2)
    return redis_client(cache["LOCATION"], timeout=timeout)


class _OpenOnCacheFailure(SimpleRateThrottle):
    retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        try:
            if settings.CACHES["default"]["BACKEND"] == _REDIS_CACHE:
                return self._allow_in_redis(request, view)
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - any cache failure: let the request through
            logger.warning("%s throttle: cache unavailable, not limiting", self.scope)
            return True

    def _allow_in_redis(self, request, view) -> bool:
        # DRF's window is a list read and rewritten whole (two round trips, and two
        # requests at once may both pass); here a sorted set of request times is trimmed,
        # counted and added to by one script, atomically, in one round trip.
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        member = secrets.token_hex(8)
        window = _window(_cache_redis())
        arguments = [self.duration, self.num_requests, member, math.ceil(self.duration)]
        wait = window(keys=[key], args=arguments)
        if wait == 0:
            return True
        self.retry_after = max(0.0, float(wait))
        return False

    def wait(self) -> float | None:
        return self.retry_after if self.retry_after is not None else super().wait()


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
