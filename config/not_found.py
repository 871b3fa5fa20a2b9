"""The 404 handler: anything under /api/ (an id that is not a number, an address that was
never there) gets a JSON answer, as the API's clients expect, not the site's HTML page."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_MESSAGE = "no such endpoint: see /api/docs/ for the API's addresses"


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": API_MESSAGE}, status=404)
    return defaults.page_not_found(request, exception)
