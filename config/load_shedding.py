"""Shed load instead of queueing it: a request that waited longer than
``SHED_QUEUE_SECONDS`` for a free thread of its gunicorn worker is answered 503 with
Retry-After at once, before it touches the database.

Under overload a thread pool's queue grows until every answer takes seconds; a client
told to retry (the annotator API's submission ids make a retried label safe) costs less
than a request served too late. gunicorn's threaded worker does not say how long a
request waited, so ``QueueTimedThreadWorker`` (``worker_class`` in
deploy/gunicorn.conf.py) stamps the time a connection was queued and the time a thread
took it; the middleware reads the difference. Under any other server (runserver, tests)
nothing is stamped and nothing is shed.
"""

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from gunicorn.workers.gthread import ThreadWorker

from config.db_unavailable import unavailable
from config.metrics import SHED

_waited = threading.local()
# Probes and scrapes must answer while the service sheds: they say why.
NEVER_SHED = ("/healthz", "/readyz", "/metrics")


def queue_wait_seconds() -> float | None:
    """How long the request this thread serves waited for the thread (None: not known)."""
    return getattr(_waited, "seconds", None)


class QueueTimedThreadWorker(ThreadWorker):
    def enqueue_req(self, conn) -> None:
        conn.counterpoint_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn):
        queued_at = getattr(conn, "counterpoint_queued_at", None)
        _waited.seconds = None if queued_at is None else time.monotonic() - queued_at
        try:
            return super().handle(conn)
        finally:
            _waited.seconds = None


class LoadSheddingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.SHED_QUEUE_SECONDS
        waited = queue_wait_seconds()
        if (
            limit
            and waited is not None
            and waited > limit
            and not request.path.startswith(NEVER_SHED)
        ):
            SHED.inc()
            return unavailable(request)
        return self.get_response(request)
