"""A researcher imports an HH-RLHF file with bad rows through the admin, in Chromium:
first all or nothing (the errors name the checkbox), then with the checkbox ticked (the
valid rows import, the rejected ones are listed and downloadable as CSV)."""

import csv

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.urls import reverse

from interventions.models import StimulusSet
from tests.e2e.browser import CHROMIUM_ARGS, SCREENSHOTS
from tests.interventions.test_import_robustness import BAD, GOOD_ROWS, HH_GZ
from tests.services import CHROMIUM, require_chromium

pytestmark = pytest.mark.browser

CHECKBOX = "Import the valid rows and report the rest"


@pytest.fixture
def page(monkeypatch):
    """Chromium; fails the test on a script error or a failed response (the admin has
    no favicon: the browser's own request for one is not the page's)."""
    require_chromium()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on(
            "response",
            lambda r: (
                problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico")
                else None
            ),
        )
        yield page
        browser.close()
    assert not problems, problems


def test_researcher_imports_the_valid_rows_and_downloads_the_report(
    transactional_db, live_server, page, tmp_path
):
    try:
        SCREENSHOTS.mkdir(exist_ok=True)
        get_user_model().objects.create_superuser("admin", "a@example.org", "pw-import-test")
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "pw-import-test")
        page.click("input[type=submit]")
        page.goto(f"{live_server.url}{reverse('admin:interventions_stimulusset_changelist')}")
        page.click("text=Import pairs")
        page.wait_for_selector("#id_skip_invalid")

        def fill_and_submit(tick: bool) -> None:
            page.set_input_files("#id_file", str(HH_GZ))
            page.select_option("#id_format", "hh-rlhf")
            page.fill("#id_stimulus_set_name", "hh-browser")
            if tick:
                page.get_by_label(CHECKBOX).check()
            page.click("input[type=submit][value=Import]")
            page.wait_for_load_state("load")

        fill_and_submit(tick=False)
        errors = page.inner_text(".errorlist")
        assert all(f"line {line}: " in errors for line in BAD)
        assert f"{GOOD_ROWS} rows are valid: tick “{CHECKBOX}”" in page.content()
        assert not StimulusSet.objects.exists()
        page.screenshot(path=str(SCREENSHOTS / "import-all-or-nothing.png"), full_page=True)

        fill_and_submit(tick=True)
        assert f"Imported {GOOD_ROWS} pairs" in page.inner_text(".messagelist")
        cells = page.locator("#rejected-rows tbody tr td:first-child").all_inner_texts()
        assert [int(c) for c in cells] == list(BAD)
        page.screenshot(path=str(SCREENSHOTS / "import-report.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#report-download")
        saved = tmp_path / "report.csv"
        download.value.save_as(saved)
        rows = list(csv.DictReader(saved.open(encoding="utf-8")))
        assert [int(r["line"]) for r in rows] == list(BAD)
        assert all(BAD[int(r["line"])] in r["reason"] for r in rows)
        assert StimulusSet.objects.get(name="hh-browser").stimuli.count() == GOOD_ROWS
    finally:
        connections.close_all()
