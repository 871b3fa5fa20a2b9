"""In Chromium, an administrator installs the catalogue from the empty list's button, a
launch with problems is refused with the reasons on the page, and a running study's
design shows read-only."""

import pytest
from django.db import connections

from collection.models import Study
from interventions.models import Intervention
from tests.e2e.admin_browser import SHOTS, admin_page
from tests.factories import stimulus_set_make, study_make, user_make

pytestmark = pytest.mark.browser


def test_catalogue_button_launch_checks_and_frozen_design(transactional_db, live_server, chromium):
    Intervention.objects.all().delete()
    user = user_make("boss", superuser=True)
    user.set_password("pw-admin-test")
    user.save()
    draft = study_make(stimulus_set=stimulus_set_make(prompts=3), status=Study.Status.DRAFT)
    Study.objects.filter(pk=draft.pk).update(labels_per_annotator=99)
    Intervention.objects.all().delete()  # the list starts empty, as on a new install
    base = live_server.url
    page = admin_page(chromium, base, "boss", "pw-admin-test")
    try:
        page.goto(f"{base}/admin/interventions/intervention/")
        page.click("#install-catalogue")
        assert "Added 11 built-in interventions." in page.inner_text(".messagelist")
        page.screenshot(path=str(SHOTS / "catalogue.png"), full_page=True)
        page.goto(f"{base}/admin/collection/study/")
        page.check(f"input[name=_selected_action][value='{draft.pk}']")
        page.select_option("select[name=action]", "launch")
        page.click("button[name=index]")
        message = page.inner_text(".messagelist")
        assert "was not launched" in message and "lower labels per annotator" in message
        Study.objects.filter(pk=draft.pk).update(labels_per_annotator=2)
        page.check(f"input[name=_selected_action][value='{draft.pk}']")
        page.select_option("select[name=action]", "launch")
        page.click("button[name=index]")
        assert "is running" in page.inner_text(".messagelist")
        page.goto(f"{base}/admin/collection/study/{draft.pk}/change/")
        assert page.locator("#id_labels_per_annotator").count() == 0  # read-only now
        assert page.locator("#id_title").count() == 1
        page.screenshot(path=str(SHOTS / "study-running.png"), full_page=True)
    finally:
        connections.close_all()
