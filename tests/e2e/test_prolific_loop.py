"""The Prolific loop in Chromium: a participant from a Prolific link declines, finishes, or
stops part-way, and each time ends on Prolific's completion URL with that outcome's code.

Prolific itself is never contacted: the browser's requests to app.prolific.com are
answered by a stand-in page (Playwright's route), so the test sees the exact URL the
participant would land on.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from annotators.models import ConsentRecord, CovariateResponse, CovariateSchema
from collection.models import Assignment, Enrollment, Label, StimulusSlot
from tests.collection.helpers import pool_problems
from tests.e2e.browser import SCREENSHOTS, accessible
from tests.factories import study_make

pytestmark = pytest.mark.browser

PROLIFIC = "https://app.prolific.com/submissions/complete?cc="
STAND_IN = (
    '<!doctype html><title>Prolific</title><link rel="icon" href="data:,">'
    "<h1>Prolific (stand-in)</h1>"
)


def _prolific_stand_in(page) -> dict:
    """Answer every request to Prolific with the stand-in page, or with 204 (the browser
    then stays where it is) once the returned dict's "stay" is set."""
    mode = {"stay": False}

    def answer(route) -> None:
        if mode["stay"]:
            route.fulfill(status=204)
        else:
            route.fulfill(status=200, content_type="text/html", body=STAND_IN)

    page.route("https://app.prolific.com/**", answer)
    return mode


def _study(stimulus_set, **fields):
    return study_make(
        stimulus_set=stimulus_set,
        no_consent_code="NOCONSENT1",
        returned_code="RETURNED1",
        expected_duration="about 10 minutes",
        payment="£2.00 through Prolific",
        contact="Dr Lee, lee@example.org",
        **fields,
    )


def _arrive(page, base: str, study, pid: str) -> None:
    page.goto(f"{base}/s/{study.slug}/?PROLIFIC_PID={pid}&STUDY_ID=ps&SESSION_ID=ses-{pid}")
    page.click("#start")


@pytest.fixture
def shots():
    SCREENSHOTS.mkdir(exist_ok=True)
    yield lambda page, name: page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    # ORM calls made while Playwright runs get a connection of their own (Django's
    # connections are per context); close it, or the test database cannot be dropped.
    connections.close_all()


def test_decline_ends_on_the_no_consent_url_with_nothing_stored(
    stimulus_set, live_server, page, shots
):
    study = _study(stimulus_set)
    _prolific_stand_in(page)
    page.set_viewport_size({"width": 390, "height": 844})
    _arrive(page, live_server.url, study, "decliner")
    assert page.inner_text("#fact-duration") == "about 10 minutes"
    assert page.inner_text("#fact-payment") == "£2.00 through Prolific"
    assert page.get_attribute("#fact-contact a", "href") == "mailto:lee@example.org"
    shots(page, "consent-phone")
    accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    shots(page, "consent")
    accessible(page)

    page.click("#decline")
    page.wait_for_url(PROLIFIC + "NOCONSENT1")
    assert page.inner_text("h1") == "Prolific (stand-in)"

    enrollment = Enrollment.objects.get()
    assert enrollment.declined_at is not None and enrollment.consented_at is None
    assert not ConsentRecord.objects.exists() and not CovariateResponse.objects.exists()
    assert not Assignment.objects.exists() and not Label.objects.exists()

    # Coming back from Prolific: the same place, a page that says so, no second redirect.
    _arrive(page, live_server.url, study, "decliner")
    page.wait_for_selector("#ended")
    assert page.url == f"{live_server.url}/s/{study.slug}/ended/"
    assert page.inner_text("h1") == "You chose not to take part"
    assert page.inner_text("#exit-code") == "NOCONSENT1"
    shots(page, "ended-declined")
    accessible(page)
    page.set_viewport_size({"width": 390, "height": 844})
    shots(page, "ended-declined-phone")
    accessible(page)
    assert Enrollment.objects.count() == 1


def test_prolific_participant_ends_on_the_completion_url_with_the_code(
    stimulus_set, live_server, page, shots
):
    schema = CovariateSchema.objects.create(
        name="loop",
        questions=[
            {
                "key": "lang",
                "label": "First language",
                "type": "choice",
                "choices": ["English", "other"],
            }
        ],
    )
    study = _study(stimulus_set, schema=schema, labels_per_annotator=3)
    prolific = _prolific_stand_in(page)
    _arrive(page, live_server.url, study, "finisher")
    page.check("#id_agree")
    page.click("#consent")
    page.select_option("#id_lang", "other")
    page.click("#about-you")
    for n in range(3):
        page.wait_for_selector(f"text={n} / 3")
        page.click("#choice-left")
        page.click("#submit")

    page.wait_for_url(PROLIFIC + "DONE123")
    assert page.url == "https://app.prolific.com/submissions/complete?cc=DONE123"
    assert Label.objects.count() == 3

    # The done page as it flashes by: Prolific answers 204, so the browser stays on it.
    prolific["stay"] = True
    page.goto(f"{live_server.url}/s/{study.slug}/done/")
    page.wait_for_selector("#exit-link")
    assert page.inner_text("#completion-code") == "DONE123"
    assert page.get_attribute("#exit-link", "href") == PROLIFIC + "DONE123"
    shots(page, "done-redirecting")
    accessible(page)


def test_stop_and_return_frees_the_pair_and_ends_on_the_returned_url(
    stimulus_set, live_server, page, shots
):
    study = _study(stimulus_set, labels_per_annotator=3)
    _prolific_stand_in(page)
    _arrive(page, live_server.url, study, "stopper")
    page.check("#id_agree")
    page.click("#consent")
    page.wait_for_selector("text=0 / 3")
    page.click("#choice-right")
    page.click("#submit")
    page.wait_for_selector("text=1 / 3")
    shots(page, "label-with-stop")
    page.set_viewport_size({"width": 390, "height": 844})
    stop_link = page.locator("#stop-link").bounding_box()
    assert stop_link is not None and stop_link["x"] + stop_link["width"] <= 390
    shots(page, "label-with-stop-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    open_pair = Assignment.objects.get(state=Assignment.State.OPEN)

    page.click("#stop-link")
    page.wait_for_selector("#stop")
    assert "1 of 3" in page.inner_text("#stop")
    shots(page, "stop-confirm")
    accessible(page)
    page.click("#stop-confirm")
    page.wait_for_url(PROLIFIC + "RETURNED1")

    open_pair.refresh_from_db()
    assert open_pair.state == Assignment.State.RETURNED
    slot = StimulusSlot.objects.get(study=study, stimulus_id=open_pair.stimulus_id)
    assert slot.level == 0 and pool_problems(study) == []
    assert Enrollment.objects.get().returned_at is not None
    assert Label.objects.count() == 1  # the label given before is kept

    _arrive(page, live_server.url, study, "stopper")
    page.wait_for_selector("#ended")
    assert page.inner_text("h1") == "You have stopped"
    shots(page, "ended-returned")
    accessible(page)
    assert Enrollment.objects.count() == 1


def test_admin_shows_the_study_url_to_paste_into_prolific(stimulus_set, live_server, page, shots):
    get_user_model().objects.create_superuser("boss", password="pw-for-tests")
    study = _study(stimulus_set)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # Django's admin names no icon, so Chromium asks for /favicon.ico (a 404, which the
    # fixture would report as a console error): not what this test is about.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-for-tests")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/collection/study/{study.pk}/change/")
    expected = (
        f"{live_server.url}/s/{study.slug}/?PROLIFIC_PID={{{{%PROLIFIC_PID%}}}}"
        "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )
    assert page.input_value("#prolific-study-url") == expected
    page.click("button[data-copy=prolific-study-url]")
    page.wait_for_selector("button[data-copy=prolific-study-url]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == expected
    page.locator("#prolific-study-url").scroll_into_view_if_needed()
    shots(page, "admin-recruitment")
