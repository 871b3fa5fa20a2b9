"""A researcher reviews generated pairs in Chromium: reads the side-by-side diff, rejects
one with a reason, moves on to the next, and approves the rest of the set in bulk."""

import pytest
from django.db import connections

from interventions.models import Stimulus
from tests.e2e.admin_browser import SHOTS, admin_page
from tests.factories import stimulus_set_make, user_make

pytestmark = pytest.mark.browser


def test_a_researcher_reviews_pairs_in_the_diff_view_and_approves_a_batch(
    transactional_db, live_server, chromium
):
    stimulus_set = stimulus_set_make(prompts=5)
    passed = list(stimulus_set.stimuli.filter(check_status="passed").order_by("pk"))
    assert len(passed) >= 3
    user = user_make("reviewer", superuser=True)
    user.set_password("pw-review-test")
    user.save()
    base = live_server.url
    try:
        page = admin_page(chromium, live_server.url, "reviewer", "pw-review-test")
        page.goto(f"{base}/admin/interventions/stimulus/{passed[0].pk}/review/")
        added = page.locator(".pair-diff ins")
        assert added.count() >= 1 and added.first.inner_text().startswith("[+")
        page.screenshot(path=str(SHOTS / "review.png"), full_page=True)
        # Rejecting without a reason is refused and changes nothing.
        page.click("#reject")
        assert "say why" in page.inner_text(".errornote")
        assert Stimulus.objects.get(pk=passed[0].pk).review_status == "pending"
        page.fill("#id_reason", "the restatement changes the meaning")
        page.click("#reject")
        page.wait_for_url(f"**/stimulus/{passed[1].pk}/review/")
        # The rest of the set in bulk from the list.
        page.goto(
            f"{base}/admin/interventions/stimulus/?stimulus_set__id__exact={stimulus_set.pk}"
            "&check_status__exact=passed&review_status__exact=pending"
        )
        page.check("#action-toggle")
        page.select_option("select[name=action]", "approve_selected")
        page.click("button[name=index]")
        assert "Approved" in page.inner_text(".messagelist")
        page.screenshot(path=str(SHOTS / "review-list.png"), full_page=True)
    finally:
        connections.close_all()
    rejected = Stimulus.objects.get(pk=passed[0].pk)
    assert rejected.review_status == "rejected" and rejected.reviewed_by.username == "reviewer"
    statuses = set(
        Stimulus.objects.filter(pk__in=[s.pk for s in passed[1:]]).values_list(
            "review_status", flat=True
        )
    )
    assert statuses == {"approved"}
