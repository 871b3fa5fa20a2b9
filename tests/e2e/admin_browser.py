"""A Chromium page signed in to the admin, for the researcher-side browser tests."""

from tests.e2e.browser import SCREENSHOTS

SHOTS = SCREENSHOTS


def admin_page(browser, base_url: str, username: str, password: str):
    """A 1280x900 page of ``browser`` (the ``chromium`` fixture), signed in through the
    admin's login form."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    return page


def researcher_page(browser, base_url: str, username: str):
    """A new researcher (collection.roles' group, no superuser), signed in: the page."""
    from tests.factories import researcher_make

    user = researcher_make(username)
    user.set_password("pw-for-tests")
    user.save()
    return admin_page(browser, base_url, username, "pw-for-tests"), user
