"""Researcher sessions end after a spell of inactivity (STAFF_IDLE_SECONDS), not only
at the session's absolute age: an admin left open on a shared machine opens every study
its owner can read."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SEEN_KEY = "_staff_seen_at"
# The last-seen time is rewritten at most this often, so a busy admin page does not
# write its session on every request.
RESOLUTION_SECONDS = 30
# The annotator API authenticates with the enrollment cookie alone and never reads the
# session; checking the session there would cost a database read on every label.
ANNOTATOR_API = "/api/studies/"


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ANNOTATOR_API):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            now = time.time()
            seen = request.session.get(SEEN_KEY)
            if seen is not None and now - seen > settings.STAFF_IDLE_SECONDS:
                logout(request)  # the view then sees an anonymous user (admin: login page)
            elif seen is None or now - seen > RESOLUTION_SECONDS:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
