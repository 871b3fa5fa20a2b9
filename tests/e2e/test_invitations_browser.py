"""Invitation links in Chromium: a researcher makes them in the admin (shown once, with a
Copy button), the first person through a link takes part, the second is turned away."""

import pytest
from django.db import connections

from collection.models import Enrollment, Invitation
from tests.e2e.admin_browser import SHOTS, researcher_page
from tests.e2e.browser import accessible
from tests.factories import study_make

pytestmark = pytest.mark.browser


def test_a_researcher_makes_links_and_each_admits_one_person(
    transactional_db, live_server, chromium
):
    try:
        page, owner = researcher_page(chromium, live_server.url, "inviter")
        study = study_make(owner=owner, invitation_only=True, title="Lab panel study")
        page.goto(f"{live_server.url}/admin/collection/invitation/add/")
        page.select_option("#id_study", str(study.pk))
        page.fill("#id_count", "2")
        page.fill("#id_note", "lab panel")
        page.screenshot(path=str(SHOTS / "admin-invitations-form.png"))
        page.click("#invitation-form input[type=submit]")
        page.wait_for_selector("#invitation-links")
        links = page.input_value("#invitation-links").split("\n")
        assert len(links) == 2 and all("?invite=" in link for link in links)
        assert "shown only once" in page.inner_text("#links-once")
        page.screenshot(path=str(SHOTS / "admin-invitations-made.png"))
        page.click("button[data-copy=invitation-links]")
        page.wait_for_selector("button[data-copy=invitation-links]:has-text('Copied')")

        # The listing shows the batch, used or not, never a token.
        page.goto(f"{live_server.url}/admin/collection/invitation/")
        assert page.locator("#result_list tbody tr").count() == 2
        token = links[0].split("=", 1)[1]
        assert token not in page.content()
        assert "lab panel" in page.inner_text("#result_list")

        first = chromium.new_page(viewport={"width": 390, "height": 844})
        first.goto(links[0])
        assert first.url == f"{live_server.url}/s/{study.slug}/"  # the token left the URL
        first.click("#start")
        first.wait_for_selector("#id_agree")
        second = chromium.new_page(viewport={"width": 1280, "height": 800})
        second.goto(links[0])
        assert "already been used" in second.inner_text("main")
        second.screenshot(path=str(SHOTS / "invitation-used.png"))
        accessible(second)
        second.goto(f"{live_server.url}/s/{study.slug}/")
        assert "invited participants only" in second.inner_text("main")
        assert Enrollment.objects.filter(study=study).count() == 1
        assert Invitation.objects.filter(used_at__isnull=False).count() == 1
    finally:
        connections.close_all()
