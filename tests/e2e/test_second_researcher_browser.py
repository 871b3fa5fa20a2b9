"""In Chromium, a second researcher signed in to the admin cannot open another's study by
any door: its admin page, its results page, an export's download link, the API."""

import pytest
from django.db import connections

from collection.exports.services import export_build, export_request
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.factories import researcher_make, study_make

pytestmark = pytest.mark.browser


def test_a_second_researcher_is_turned_away_at_every_door(
    transactional_db, live_server, chromium, stimulus_set, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    try:
        owner = researcher_make("first-owner")
        study = study_make(stimulus_set=stimulus_set, owner=owner, title="Private study")
        export = export_request(study=study, requested_by=owner, format="trl", file_format="jsonl")
        export_build(export_id=export.pk)
        page, _ = researcher_page(chromium, live_server.url, "second-researcher")
        base = live_server.url
        doors = {
            "admin page": f"{base}/admin/collection/study/{study.pk}/change/",
            "export page": f"{base}/admin/collection/study/{study.pk}/export/",
            "planning page": f"{base}/admin/collection/study/{study.pk}/plan/",
            "results page": f"{base}/results/{study.slug}/",
            "export download": f"{base}/exports/{export.pk}/download/",
            "API study": f"{base}/api/v1/studies/{study.slug}/",
            "API labels": f"{base}/api/v1/studies/{study.slug}/labels/",
            "API download": f"{base}/api/v1/studies/{study.slug}/exports/{export.pk}/download/",
        }
        for door, url in doors.items():
            answer = page.goto(url)
            # The admin redirects a missing object to its index with a message; every
            # other door is a plain 404. Nothing shows the study's title.
            assert answer.status in (302, 404) or "doesn’t exist" in page.content(), door
            assert "Private study" not in page.content(), door
        page.goto(f"{base}/admin/collection/study/")
        assert "Private study" not in page.content()
        page.screenshot(path=str(SHOTS / "second-researcher-studies.png"))
        # A co-owner, signed in the same way, opens every door: the doors work.
        co_page, co_owner = researcher_page(chromium, base, "co-owner")
        study.owners.add(co_owner)
        for door, url in doors.items():
            assert co_page.request.get(url).status == 200, door  # downloads included
    finally:
        connections.close_all()
