"""The API's interactive docs in Chromium: Swagger UI from the project's own static
files under the strict Content-Security-Policy, listing the researcher API."""

import pytest
from django.db import connections

from tests.collection.test_researcher_api import _v1_routes
from tests.e2e.admin_browser import SHOTS, researcher_page

pytestmark = pytest.mark.browser


def test_the_docs_render_every_researcher_endpoint_under_the_csp(
    transactional_db, live_server, chromium
):
    try:
        page, _ = researcher_page(chromium, live_server.url, "docs-reader")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        outside: list[str] = []
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
        )
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".opblock-summary-path")
        paths = set(page.locator(".opblock-summary-path").all_inner_texts())
        assert "/api/v1/studies/{slug}/labels/" in {p.replace("\u200b", "") for p in paths}
        shown = {p.replace("\u200b", "") for p in paths if "/api/v1/" in p.replace("\u200b", "")}
        assert shown == _v1_routes()  # every researcher endpoint, as the URL patterns say
        assert not [e for e in errors if "Content Security Policy" in e], errors
        assert not [u for u in outside if not u.startswith("data:")], outside
        page.screenshot(path=str(SHOTS / "api-docs.png"))
    finally:
        connections.close_all()
