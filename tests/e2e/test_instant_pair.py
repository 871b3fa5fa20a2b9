"""The label page's JSON path: the next pair without a page load, "Saved" announced, the
strength question off for a tie; and the plain form with JavaScript off."""

import pytest
from django.db import connections

from collection.models import Label, Study
from collection.services.labels import TIE_STRENGTH
from tests.e2e.browser import SCREENSHOTS, accessible
from tests.factories import study_make

pytestmark = pytest.mark.browser


def _to_label_page(page, url: str, slug: str) -> None:
    page.goto(f"{url}/s/{slug}/?PROLIFIC_PID=instant-pid&STUDY_ID=x&SESSION_ID=y")
    page.click("#start")
    page.check("#id_agree")
    page.click("#consent")
    page.wait_for_selector("#label-form")


def _ready(page) -> None:
    page.wait_for_selector("#label-form[data-ready]", state="attached")


def test_next_pair_swaps_in_without_a_page_load(stimulus_set, live_server, page):
    try:
        study = study_make(
            stimulus_set=stimulus_set, labels_per_annotator=3, completion_url_template=""
        )
        _to_label_page(page, live_server.url, study.slug)
        _ready(page)
        # A marker on the window survives only if the page is never reloaded.
        page.evaluate("window.__sameDocument = true")
        first_id = page.input_value('input[name="assignment_id"]')

        page.keyboard.press("t")
        # A tie: "How much better?" is disabled, so neither focusable nor sent.
        assert page.eval_on_selector("#strength", "f => f.disabled")
        page.keyboard.press("Enter")
        page.wait_for_selector("#label-status.saved")
        assert page.inner_text("#label-status").startswith("Saved")
        assert page.evaluate("window.__sameDocument") is True
        assert page.input_value('input[name="assignment_id"]') != first_id
        assert page.inner_text("h1") == "Pair 2 of 3: which response is better?"
        assert page.evaluate("document.activeElement.id") == "pair-heading"
        assert not page.eval_on_selector("#strength", "f => f.disabled")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "label-saved.png"))
        accessible(page)

        page.keyboard.press("a")
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Pair 3 of 3: which response is better?", state="attached")
        page.keyboard.press("b")
        page.keyboard.press("Enter")
        page.wait_for_selector("#completion-code")

        labels = list(Label.objects.order_by("pk"))
        assert [(lb.choice, lb.strength) for lb in labels] == [
            ("tie", TIE_STRENGTH),
            ("left", 3),
            ("right", 2),
        ]
    finally:
        connections.close_all()


def test_a_lost_response_is_retried_without_a_second_label(stimulus_set, live_server, chromium):
    # Not the `page` fixture: the dropped connection is a console error on purpose.
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        study = study_make(
            stimulus_set=stimulus_set, labels_per_annotator=2, completion_url_template=""
        )
        _to_label_page(page, live_server.url, study.slug)
        _ready(page)
        # The first submit reaches the server but its answer is lost on the way back.
        state = {"dropped": False}

        def drop_first_answer(route):
            response = route.fetch()
            if not state["dropped"]:
                state["dropped"] = True
                route.abort("connectionreset")
            else:
                route.fulfill(response=response)

        page.route("**/api/studies/*/labels/", drop_first_answer)
        page.click("#choice-left")
        page.click("#submit")
        page.wait_for_selector("#label-status.error")
        assert "Submit again" in page.inner_text("#label-status")
        assert Label.objects.count() == 1  # stored once, not confirmed
        page.click("#submit")  # same submission id: the server replays the stored label
        page.wait_for_selector("#label-status.saved")
        assert Label.objects.count() == 1
        assert page.inner_text("h1") == "Pair 2 of 2: which response is better?"
    finally:
        connections.close_all()


def test_with_javascript_off_the_form_posts_as_a_page(stimulus_set, live_server, chromium):
    try:
        study = study_make(
            stimulus_set=stimulus_set, labels_per_annotator=3, completion_url_template=""
        )
        page = chromium.new_context(
            viewport={"width": 1280, "height": 900}, java_script_enabled=False
        ).new_page()
        _to_label_page(page, live_server.url, study.slug)
        for choice in ("#choice-left", "#choice-tie", "#choice-right"):
            page.click(choice)
            page.click("#submit")
            page.wait_for_load_state()
        page.wait_for_selector("#completion-code")
        labels = list(Label.objects.order_by("pk"))
        assert [(lb.choice, lb.strength) for lb in labels] == [
            ("left", 2),
            ("tie", TIE_STRENGTH),
            ("right", 2),
        ]
    finally:
        connections.close_all()


def test_a_graded_study_asks_the_strength_on_every_pair(stimulus_set, live_server, page):
    try:
        study = study_make(
            stimulus_set=stimulus_set,
            labels_per_annotator=2,
            completion_url_template="",
            strength=Study.Strength.GRADED,
        )
        _to_label_page(page, live_server.url, study.slug)
        _ready(page)
        for pair, (key, level) in enumerate([("a", "3"), ("b", "1")], start=1):
            page.wait_for_selector(f"text={pair - 1} / 2")
            assert page.locator('input[name="strength"]:checked').count() == 0
            page.keyboard.press(key)
            page.keyboard.press("Enter")  # no strength yet: the browser holds the form
            page.wait_for_selector("#label-status.error")
            assert "how much better" in page.inner_text("#label-status")
            assert Label.objects.count() == pair - 1
            if pair == 1:
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "label-graded-strength-missing.png"))
                accessible(page)
            page.keyboard.press(level)
            page.keyboard.press("Enter")
        page.wait_for_selector("#completion-code")
        labels = list(Label.objects.order_by("pk"))
        assert [(lb.choice, lb.strength) for lb in labels] == [("left", 3), ("right", 1)]
    finally:
        connections.close_all()
