"""The planning page in Chromium: from the study's admin page to the labels and
annotators needed, the ICC prefilled from the study's own labels, a new effect size; then
the stopping-rule form on the study's page takes the plan's labels as its budget."""

import numpy as np
import pytest
from django.db import connections

from tests.analysis.helpers import label_study
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible
from tests.factories import study_make

pytestmark = pytest.mark.browser


def test_a_researcher_plans_the_study_from_its_page(
    transactional_db, live_server, chromium, stimulus_set
):
    try:
        page, owner = researcher_page(chromium, live_server.url, "plan-owner")
        study = study_make(stimulus_set=stimulus_set, owner=owner, labels_per_annotator=6)
        label_study(study, annotators=6, rng=np.random.default_rng(2))
        page.goto(f"{live_server.url}/admin/collection/study/{study.pk}/change/")
        page.click("#planning-link")
        page.wait_for_selector("#plan")
        assert "36 labels by 6 annotators" in page.inner_text("#pilot")
        first = int(page.inner_text("#labels-total"))
        page.fill("#id_effect", "0.1")  # twice the effect: about a quarter of the labels
        page.click("#planning-form input[type=submit]")
        page.wait_for_url("**effect=0.1**")
        second = int(page.inner_text("#labels-total"))
        assert 0.2 < second / first < 0.3
        assert "design effect" in page.inner_text("#design-effect")
        page.screenshot(path=str(SHOTS / "admin-planning.png"), full_page=True)

        # Plan by simulation: a shipped population, the study's own interventions.
        page.select_option("#id_sim-population", "expertise")
        page.fill("#id_sim-annotators", "40,200")
        page.fill("#id_sim-studies", "100")
        page.click("#simulated-plan-form input[type=submit]")
        page.wait_for_selector("#simulated-plan-table")
        rows = page.locator("#simulated-plan-table tbody tr")
        assert rows.count() == 4  # 2 sizes x 2 labels-per-annotator values
        assert "length-longer" in rows.first.inner_text()
        assert "Recommended" in page.inner_text("#simulated-recommendation") or "No size" in (
            page.inner_text("#simulated-recommendation")
        )
        accessible(page)
        page.locator("#simulated-plan").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "admin-planning-simulated.png"), full_page=True)

        # The plan's labels as the study's stopping budget, through the stopping-rule form.
        page.goto(f"{live_server.url}/admin/collection/study/{study.pk}/change/")
        page.fill("#id_stop_label_budget", str(second))
        page.check("#id_stop_cs_excludes_zero")
        page.locator("#id_stop_label_budget").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "admin-stopping-rule.png"))
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        study.refresh_from_db()
        assert study.stopping_rule == {"cs_excludes_zero": True, "label_budget": second}
        assert page.input_value("#id_stop_label_budget") == str(second)
    finally:
        connections.close_all()
