"""A Chromium page signed in to the admin, for the researcher-side browser tests."""

from tests.e2e.browser import CHROMIUM_ARGS, SCREENSHOTS
from tests.services import CHROMIUM

SHOTS = SCREENSHOTS


def admin_page(playwright, base_url: str, username: str, password: str):
    """(browser, page): a 1280x900 page signed in through the admin's login form."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    return browser, page
