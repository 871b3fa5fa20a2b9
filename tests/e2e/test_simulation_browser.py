"""A simulated study in Chromium: simulated annotators fill it through the live server,
the estimates are refreshed, and the researcher reads the planted truth beside them."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections

from analysis.services import study_refresh
from collection.models import Label
from tests.e2e.admin_browser import SHOTS, admin_page
from tests.e2e.browser import accessible
from tests.simulation.helpers import population_file, simulated_study_make

pytestmark = pytest.mark.browser


def test_the_researcher_reads_truth_against_estimate(
    transactional_db, live_server, chromium, tmp_path
):
    study = simulated_study_make(labels_per_annotator=8)
    # One annotator at a time on SQLite: the live server shares the test's connection.
    threads = "3" if connection.vendor == "postgresql" else "1"
    call_command(
        "simulate", study.slug, "--population", str(population_file(tmp_path)),
        "--annotators", "20", "--base-url", live_server.url, "--concurrency", threads,
        stdout=io.StringIO(),
    )  # fmt: skip
    assert Label.objects.filter(study=study).count() == 160
    study_refresh(study_id=study.pk)
    get_user_model().objects.create_superuser("sim-boss", "b@example.org", "pw-sim-test")
    try:
        page = admin_page(chromium, live_server.url, "sim-boss", "pw-sim-test")
        page.goto(f"{live_server.url}/simulation/{study.slug}/")
        row = page.locator("#truth tbody tr").first
        name = row.locator("th").inner_text().strip()
        values = [c.strip() for c in row.locator("td").all_inner_texts()]
        assert name == "length-longer"
        planted, estimate = float(values[0]), float(values[1])
        assert planted > 0.15 and abs(estimate - planted) < 0.15
        assert values[2].startswith("[") and values[3] in ("yes", "no")
        assert "length-lovers" in page.inner_text("#simulation-truth")
        accessible(page)
        page.screenshot(path=str(SHOTS / "simulation_truth.png"), full_page=True)
    finally:
        connections.close_all()
