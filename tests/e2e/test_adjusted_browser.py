"""The results page of a study with imported pairs, in Chromium: the adjusted
observational estimates beside the randomised one, readable and accessible."""

import numpy as np
import pytest
from django.db import connections

from analysis.services import study_refresh
from tests.analysis.test_adjusted import _imported_set, _label
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible
from tests.factories import stimulus_set_make, study_make

pytestmark = pytest.mark.browser


def test_the_researcher_reads_the_adjusted_estimates(transactional_db, live_server, chromium):
    page, owner = researcher_page(chromium, live_server.url, "obs-reader")
    rng = np.random.default_rng(8)
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=10), owner=owner,
        replication_factor=40, labels_per_annotator=20,
    )  # fmt: skip
    study.stimulus_sets.add(_imported_set(rng))
    _label(study, 50, rng)
    study_refresh(study_id=study.pk)
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
