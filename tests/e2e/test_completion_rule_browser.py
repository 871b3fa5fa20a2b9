"""In Chromium: an annotator who gets the attention checks wrong finishes the study on a
page that says why there is no completion code, and none is shown."""

import pytest
from django.db import connections

from collection.models import Assignment
from tests.collection.helpers import attention_checks_make
from tests.e2e.browser import SCREENSHOTS
from tests.factories import study_make

pytestmark = pytest.mark.browser


def test_an_inattentive_annotator_finishes_without_a_code(stimulus_set, live_server, page):
    try:
        attention_checks_make(stimulus_set, 3)
        study = study_make(
            stimulus_set=stimulus_set,
            labels_per_annotator=4,
            # Every pair a check while one is left (three of the four): a lower rate made
            # whether any was drawn depend on the enrollment's id, so on earlier tests.
            attention_check_rate=1.0,
            attention_min_share=1.0,
            completion_url_template="",
        )
        page.goto(f"{live_server.url}/s/{study.slug}/")
        page.click("#start")
        page.check("#id_agree")
        page.click("#consent")
        checks = 0
        for n in range(4):
            page.wait_for_selector(f"text={n} / 4")
            open_pair = Assignment.objects.get(study=study, state=Assignment.State.OPEN)
            if open_pair.is_attention_check:
                checks += 1
                # The check asks for the treated side: pick the other one.
                wrong_left = not open_pair.treated_on_left
                page.click("#choice-left" if wrong_left else "#choice-right")
            else:
                page.click("#choice-left")
            page.click("#submit")
        page.wait_for_selector("#done")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "done-not-verified.png"))
        assert checks == 3
        assert "no completion code is issued" in page.inner_text("#not-verified")
        assert page.locator("#completion-code").count() == 0
        assert study.completion_code not in page.content()
    finally:
        connections.close_all()
