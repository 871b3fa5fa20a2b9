"""A request id on every log line of a request, and of the Celery tasks it sends.

The id comes from the X-Request-ID header when a proxy in front set a sane one, else it is
new; it is echoed in the response. ``before_task_publish`` copies it into each message's
headers and ``task_prerun`` restores it in the worker, so a refresh's log lines carry the
id of the label request that asked for it."""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.http import HttpRequest, HttpResponse

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        value = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(value)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response[HEADER] = value
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


@before_task_publish.connect
def _carry(headers: dict | None = None, **_: object) -> None:
    if headers is not None and REQUEST_ID.get() != "-":
        headers["request_id"] = REQUEST_ID.get()


@task_prerun.connect
def _restore(task=None, **_: object) -> None:
    value = getattr(task.request, "request_id", None) if task is not None else None
    REQUEST_ID.set(value if isinstance(value, str) and _SANE.fullmatch(value) else "-")


@task_postrun.connect
def _clear(**_: object) -> None:
    REQUEST_ID.set("-")
