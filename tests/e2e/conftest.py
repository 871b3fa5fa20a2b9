import pytest

from tests.e2e.browser import CHROMIUM_ARGS
from tests.services import CHROMIUM, require_chromium


@pytest.fixture
def chromium(monkeypatch):
    """Debian's Chromium, driven by Playwright (skipped, or failed in CI, without it)."""
    require_chromium()
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # test around it are synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A page at 1280x900 that fails the test on any console error."""
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    assert not errors, f"browser console errors: {errors}"
