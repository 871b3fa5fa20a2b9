"""One Redis client (and its connection pool) per address and timeout, per process, for
the code that talks to Redis directly rather than through the cache: the refresh markers,
the refresh lease and the annotator throttles."""

from functools import cache

import redis


@cache
def redis_client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
