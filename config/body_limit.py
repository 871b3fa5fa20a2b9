"""Refuse a request body over REQUEST_MAX_BYTES before anything reads it (gunicorn has no
such limit of its own). The annotator API's own, much smaller limit sits in its view."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.REQUEST_MAX_BYTES
        if not length.isdigit() or int(length) > limit:
            message = (
                f"the request body must be at most {limit // 1_000_000} MB; "
                "split the upload into smaller files"
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
