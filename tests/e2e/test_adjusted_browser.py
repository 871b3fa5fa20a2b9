"""The results page of a study with imported pairs, in Chromium: the adjusted
observational estimates beside the randomised one, readable and accessible."""

import pytest
from django.db import connections

from tests.analysis.test_adjusted import mixed_study_make
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible

pytestmark = pytest.mark.browser


def test_the_researcher_reads_the_adjusted_estimates(transactional_db, live_server, chromium):
    page, owner = researcher_page(chromium, live_server.url, "obs-reader")
    study = mixed_study_make(owner)
    try:
        page.goto(f"{live_server.url}/results/{study.slug}/")
        table = page.locator("#adjusted")
        cells = table.locator("tbody tr").first.locator("td").all_inner_texts()
        assert cells[0].count("(") == 1  # labels (treated)
        for estimate in cells[1:4]:  # naive, IPW, AIPW: a point and an interval
            assert estimate.startswith("+") and "[" in estimate
        assert cells[4].startswith("length-longer: +")
        assert "propensity" in cells[5]
        accessible(page)
        table.scroll_into_view_if_needed()
        page.locator("#adjusted").screenshot(path=str(SHOTS / "results_adjusted.png"))
    finally:
        connections.close_all()
