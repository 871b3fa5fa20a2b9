"""A pretest in Chromium: two annotators answer the manipulation-check questions through
the study's entry and consent pages; the pair they found changed in meaning is then never
served by a main study that requires validated pairs, and the researcher reads the
per-pair results in the admin."""

import pytest
from django.db import connections

from collection.models import Assignment, CheckAnswer
from interventions.models import Stimulus
from tests.e2e.admin_browser import admin_page
from tests.e2e.browser import CHROMIUM_ARGS, SCREENSHOTS, accessible
from tests.factories import stimulus_set_make, study_make, user_make

pytestmark = pytest.mark.browser
assert "--no-sandbox" in CHROMIUM_ARGS  # the shared flags, used by the chromium fixture


def _annotate(browser, base: str, pretest, good_pk: int, shot: str | None) -> None:
    """One annotator, in a fresh browser context: entry, consent, then the questions for
    each pair. The good pair: the treated side and 'yes'; the other: the control side
    and 'no' (the change went unnoticed and the meaning moved)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/s/{pretest.slug}/")
    page.click("#start")
    page.check("#id_agree")
    page.click("#consent")
    for i in range(2):
        page.wait_for_selector(f"text={i} / 2")
        assert page.inner_text("#check-question legend") == (
            "Which response is longer (says the same at more length)?"
        )
        shown = Assignment.objects.filter(study=pretest, state="open").latest("pk")
        treated = "left" if shown.treated_on_left else "right"
        control = "right" if treated == "left" else "left"
        if shot and i == 0:
            page.screenshot(path=str(SCREENSHOTS / shot), full_page=False)
            accessible(page)
        good = shown.stimulus_id == good_pk
        if i == 0:  # sent unanswered: held back by the browser, and the page says why
            page.click("#submit")
            page.wait_for_selector("#label-status.error")
            assert page.inner_text("#label-status").endswith("Answer every question, then submit.")
        page.check(f"#identified-{treated if good else control}")
        page.check("#same-yes" if good else "#same-no")
        page.click("#submit")
    page.wait_for_selector("#completion-code")
    context.close()
    assert not errors, errors


def test_a_pretest_by_two_annotators_excludes_the_failing_pair_from_a_main_study(
    transactional_db, live_server, chromium
):
    stimulus_set = stimulus_set_make(prompts=6)
    good, bad = stimulus_set.stimuli.filter(check_status="passed").order_by("pk")[:2]
    stimulus_set.stimuli.exclude(pk__in=[good.pk, bad.pk]).update(check_status="rejected")
    researcher = user_make("researcher", superuser=True)
    researcher.set_password("pw-pretest")
    researcher.save()
    pretest = study_make(
        stimulus_set=stimulus_set, kind="pretest", title="Pretest of the length pairs",
        replication_factor=2, labels_per_annotator=2, pretest_min_answers=2,
        completion_url_template="", owner=researcher,
    )  # fmt: skip
    main = study_make(
        stimulus_set=stimulus_set, title="Main study", replication_factor=5,
        labels_per_annotator=1, require_validated=True, completion_url_template="",
    )  # fmt: skip
    SCREENSHOTS.mkdir(exist_ok=True)
    base = live_server.url
    try:
        _annotate(chromium, base, pretest, good.pk, "pretest.png")
        _annotate(chromium, base, pretest, good.pk, None)
        assert CheckAnswer.objects.filter(study=pretest).count() == 4
        statuses = dict(Stimulus.objects.values_list("pk", "validation_status"))
        assert (statuses[good.pk], statuses[bad.pk]) == ("passed", "failed")

        # Annotators of the main study are served only the validated pair.
        for n in range(2):
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{base}/s/{main.slug}/")
            page.click("#start")
            page.check("#id_agree")
            page.click("#consent")
            page.wait_for_selector("#choice-left")
            if n == 0:
                page.screenshot(path=str(SCREENSHOTS / "pretest-main-study.png"))
            context.close()
        served = set(Assignment.objects.filter(study=main).values_list("stimulus_id", flat=True))
        assert served == {good.pk}

        # The researcher reads the per-pair results on the pretest's page.
        page = admin_page(chromium, base, "researcher", "pw-pretest")
        page.goto(f"{base}/admin/collection/study/{pretest.pk}/change/")
        table = page.inner_text("#pretest-results")
        assert f"#{good.pk}\tlength-longer\t2\t100%\t100%\tpassed" in table
        assert f"#{bad.pk}\tlength-longer\t2\t0%\t0%\tfailed" in table
        page.locator("#pretest-results").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "pretest-admin.png"), full_page=False)
    finally:
        connections.close_all()
