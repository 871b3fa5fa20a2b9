"""The annotator pages' previews in Chromium, at a laptop's and a phone's size: each
looks as a participant sees it (axe finds nothing), a choice sent from the pair's
preview shows the page again, and nothing is recorded."""

import pytest
from django.db import connections

from annotators.models import CovariateSchema
from collection.models import Enrollment, Label, PracticePair
from collection.preview import PAGES
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible
from tests.factories import study_make

pytestmark = pytest.mark.browser


def test_the_previews_look_like_the_pages_and_record_nothing(
    transactional_db, live_server, chromium, stimulus_set
):
    try:
        page, owner = researcher_page(chromium, live_server.url, "pv-browser")
        schema = CovariateSchema.objects.create(
            name="pvb",
            questions=[{"key": "age", "label": "Your age", "type": "number", "min": 18}],
        )
        study = study_make(stimulus_set=stimulus_set, owner=owner, schema=schema)
        PracticePair.objects.create(
            study=study, prompt="How do I sort a list?", left="Use sorted().",
            right="No idea.", feedback="A answers.",
        )  # fmt: skip
        page.goto(f"{live_server.url}/admin/collection/study/{study.pk}/change/")
        assert page.locator("#preview-links a").count() == len(PAGES)
        for width, height in ((1280, 800), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            for name in PAGES:
                page.goto(f"{live_server.url}/admin/collection/study/{study.pk}/preview/{name}/")
                page.wait_for_selector("#preview-banner")
                accessible(page)
                page.screenshot(path=str(SHOTS / f"preview-{name}-{width}.png"))
        page.goto(f"{live_server.url}/admin/collection/study/{study.pk}/preview/label/")
        page.wait_for_selector("#label-form[data-ready]", state="attached")
        page.click("label:has(#choice-left)")
        page.click("#submit")
        page.wait_for_selector("#preview-banner")
        assert not Enrollment.objects.exists() and not Label.objects.exists()
    finally:
        connections.close_all()
