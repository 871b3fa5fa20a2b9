"""The results page in Chromium, as a researcher reads it: the estimand is named, a row
with enough annotators shows its interval, p-values and sequence, and a subgroup below
the study's minimum shows its estimate without any p-value and says why."""

import re
from pathlib import Path

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from analysis.figures import NAMES
from analysis.services import study_refresh
from annotators.models import CovariateResponse, CovariateSchema
from tests.analysis.helpers import label_study, study_with_every_figure
from tests.e2e.admin_browser import SHOTS, admin_page
from tests.e2e.browser import accessible
from tests.factories import stimulus_set_make, study_make

pytestmark = pytest.mark.browser

# Annotators alternate novice/expert (tests.analysis.helpers); 3 of 23 are "retired".
QUESTIONS = [
    {
        "key": "expertise",
        "label": "Expertise",
        "type": "choice",
        "choices": ["novice", "expert", "retired"],
    }
]


def _cells(page, table: str, subgroup: str) -> list[str]:
    row = page.locator(f"#{table} tr", has=page.locator("td", has_text=subgroup)).first
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def test_a_researcher_reads_the_estimand_and_sees_no_p_value_below_the_minimum(
    transactional_db, live_server, chromium
):
    schema = CovariateSchema.objects.create(name="expertise", questions=QUESTIONS)
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=30),
        replication_factor=4,
        labels_per_annotator=4,
        schema=schema,
        estimand="annotator",
        min_annotators=10,
    )
    label_study(study, annotators=22, rng=np.random.default_rng(1))
    # Three annotators become "retired": a subgroup of 3, below the minimum of 10.
    for response in CovariateResponse.objects.order_by("pk")[:3]:
        CovariateResponse.objects.filter(pk=response.pk).update(answers={"expertise": "retired"})
    study_refresh(study_id=study.pk)
    get_user_model().objects.create_superuser("boss", "b@example.org", "pw-results-test")
    try:
        page = admin_page(chromium, live_server.url, "boss", "pw-results-test")
        page.goto(f"{live_server.url}/results/{study.slug}/")
        assert "annotator-weighted: every annotator counts once" in page.inner_text(".estimand")
        whole = _cells(page, "latest", "everyone")
        assert whole[0] == "length-longer" and whole[9] == "22"
        assert whole[3].startswith("[") and whole[4] != "–" and whole[7].startswith("[")
        retired = _cells(page, "subgroups", "expertise=retired")
        assert retired[9] == "3" and retired[2] != "–"  # the estimate is shown
        assert retired[3:9] == ["–"] * 6  # no interval, p-value or sequence
        assert "fewer than the study's minimum of 10" in retired[11]
        expert = _cells(page, "subgroups", "expertise=expert")
        assert int(expert[9]) >= 10 and expert[4] != "–" and expert[5] != "–"
        page.screenshot(path=str(SHOTS / "results.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#estimates-csv")
        text = Path(download.value.path()).read_text()
        assert text.startswith("intervention,estimand,weighting,subgroup,estimate")
        assert "expertise=retired" in text and "fewer than the study's minimum of 10" in text
    finally:
        connections.close_all()


def test_every_figure_is_shown_and_the_open_page_updates_itself(
    transactional_db, live_server, chromium
):
    """A researcher opens the results of a labelled study: every figure loads, the page
    passes axe, and a label refreshed while it is open appears without a reload."""
    owner = get_user_model().objects.create_user(
        "reader", "r@example.org", "pw-results-test", is_staff=True
    )
    study = study_with_every_figure(owner)
    try:
        page = admin_page(chromium, live_server.url, "reader", "pw-results-test")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{live_server.url}/results/{study.slug}/")
        for name in NAMES:
            img = page.locator(f"#figure-{name} img")
            img.scroll_into_view_if_needed()
            assert img.evaluate("i => i.complete && i.naturalWidth > 300"), name
            figure = page.request.get(f"{live_server.url}/results/{study.slug}/figures/{name}.png")
            (SHOTS / f"results-figure-{name}.png").write_bytes(figure.body())
        accessible(page)
        animation = "getComputedStyle(document.getElementById('live')).animationName"
        assert page.evaluate(animation) == "arrive"
        page.emulate_media(reduced_motion="reduce")
        assert page.evaluate(animation) == "none"
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SHOTS / "results-top.png"))
        page.locator("#figure-forest").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "results-forest.png"))
        page.screenshot(path=str(SHOTS / "results-full.png"), full_page=True)

        before = page.get_attribute("#results", "data-watermark")
        label_study(study, annotators=1, rng=np.random.default_rng(9))
        study_refresh(study_id=study.pk)
        page.wait_for_function(
            "w => document.getElementById('results').dataset.watermark !== w",
            arg=before,
            timeout=20_000,
        )
        assert int(page.get_attribute("#results", "data-watermark")) > int(before)
        assert "21" in _cells(page, "latest", "everyone")[9]  # the new annotator counted
        assert re.fullmatch(r"\d\d:\d\d:\d\d", page.inner_text("#updated-at"))
        assert page.get_attribute(".updated", "aria-live") == "polite"
    finally:
        connections.close_all()
