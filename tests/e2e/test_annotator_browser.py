"""A person's path through the annotator pages, in Debian's Chromium via Playwright."""

import pytest
from django.db import connections

from annotators.models import CovariateSchema
from collection.models import Assignment, Label
from tests.e2e.browser import SCREENSHOTS, accessible
from tests.factories import study_make

pytestmark = pytest.mark.browser


def test_annotator_clicks_through_to_stored_labels(stimulus_set, live_server, page):
    try:
        schema = CovariateSchema.objects.create(
            name="e2e",
            questions=[
                {
                    "key": "expertise",
                    "label": "Expertise",
                    "type": "choice",
                    "choices": ["little", "expert"],
                }
            ],
        )
        # No completion URL: the done page stays, showing the code (the redirect to
        # Prolific is test_prolific_loop's).
        study = study_make(
            stimulus_set=stimulus_set,
            schema=schema,
            labels_per_annotator=2,
            completion_url_template="",
        )
        SCREENSHOTS.mkdir(exist_ok=True)

        page.goto(f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID=e2e-pid&STUDY_ID=x&SESSION_ID=y")
        page.click("#start")
        page.check("#id_agree")
        page.click("#consent")
        page.select_option("#id_expertise", "expert")
        page.click("#about-you")

        # First pair: mouse. Second pair: keyboard shortcuts.
        page.wait_for_selector("#label-form")
        page.screenshot(path=str(SCREENSHOTS / "label.png"), full_page=False)
        # One h1 for the page, the keys in view beside the choice, and nothing axe flags.
        assert page.inner_text("h1") == "Pair 1 of 2: which response is better?"
        assert page.locator("#keys").is_visible()
        accessible(page)
        first = Assignment.objects.get(sequence=0)
        page.click("#choice-right")
        page.check('input[name="strength"][value="3"]')
        page.fill("textarea[name=rationale]", "B is more direct")
        page.click("#submit")

        page.wait_for_selector("text=1 / 2")
        page.keyboard.press("b")
        page.keyboard.press("1")
        page.keyboard.press("Enter")

        page.wait_for_selector("#completion-code")
        assert page.inner_text("#completion-code") == study.completion_code
        page.screenshot(path=str(SCREENSHOTS / "done.png"))

        labels = list(Label.objects.order_by("pk").select_related("assignment"))
        assert [(lb.choice, lb.strength) for lb in labels] == [("right", 3), ("right", 1)]
        assert labels[0].assignment == first and labels[0].rationale == "B is more direct"
        assert labels[0].outcome == (0.0 if first.treated_on_left else 1.0)
        assert all(lb.time_on_task_ms is not None and lb.time_on_task_ms > 0 for lb in labels)
    finally:
        # ORM calls made while Playwright runs get a connection of their own (Django's
        # connections are per context); close it, or the test database cannot be dropped.
        connections.close_all()
