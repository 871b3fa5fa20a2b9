"""When the database is unreachable, answer 503 with Retry-After (JSON for the API, a
short page for people) instead of a 500, and let the next request try again: Django
opens a fresh connection per request, so service resumes by itself once it is back."""

import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

RETRY_AFTER_SECONDS = 5
MESSAGE = "The service is briefly unavailable; please try again in a few seconds."


def unavailable(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE}, status=503)
    else:
        body = render_to_string("unavailable.html", {"message": MESSAGE})
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            close_old_connections()  # drop the broken connection; the next request reconnects
            return unavailable(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: a database outage met outside a view (a session saved by its
    middleware, say) is still a 503."""
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        close_old_connections()
        return unavailable(request)
    return defaults.server_error(request)
