"""The whole annotator journey in Chromium, as issue 12 asks: from a Prolific-style link
through consent, questionnaire and practice to ten pairs and Prolific's completion URL,
by mouse and keyboard on a laptop and by touch on a 390x844 phone; axe-core on every
page at both sizes; screenshots of every page in tests/e2e/screenshots/journey-*.png.

Prolific is never contacted: its completion URL is answered by a stand-in page."""

import pytest
from django.db import connections

from annotators.models import CovariateSchema
from collection.models import Label, PracticeAnswer, PracticePair
from tests.e2e.browser import SCREENSHOTS, accessible
from tests.factories import pair_set_make, stimulus_set_make, study_make

pytestmark = pytest.mark.browser

PROLIFIC = "https://app.prolific.com/submissions/complete?cc="
PAIRS = 10
CODE_ANSWER = (
    "Use a list comprehension:\n\n```python\nsquares = [n * n for n in range(10)]  # 0..81\n"
    "print(squares)\n```\n\nIt is shorter than a loop."
)
LONG = "\n\n".join(f"Paragraph {n}: " + "a sentence of an ordinary answer. " * 10 for n in range(8))


def _study(**fields):
    schema = CovariateSchema.objects.create(
        name=f"journey-{fields.get('slug', 'x')}",
        questions=[
            {"key": "lang", "label": "First language", "type": "choice",
             "choices": ["English", "other"]},
        ],
    )  # fmt: skip
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=20),
        schema=schema,
        labels_per_annotator=PAIRS,
        replication_factor=2,
        expected_duration="about 10 minutes",
        payment="£2.00 through Prolific",
        contact="lee@example.org",
        **fields,
    )
    for position, (expected, why) in enumerate(
        [("left", "A answers the question; B does not."), ("tie", "Both say the same.")],
        start=1,
    ):
        PracticePair.objects.create(
            study=study,
            position=position,
            prompt=f"Practice {position}: how do I square numbers in Python?",
            left=CODE_ANSWER,
            right="I am not sure." if expected == "left" else CODE_ANSWER,
            expected=expected,
            feedback=why,
        )
    return study


def _stand_in(page) -> dict:
    """Prolific's pages answered by a stand-in, or by 204 (the browser stays where it is)
    once the returned dict's "stay" is set."""
    body = '<!doctype html><title>Prolific</title><link rel="icon" href="data:,"><h1>Prolific</h1>'
    mode = {"stay": False}

    def answer(route) -> None:
        if mode["stay"]:
            route.fulfill(status=204)
        else:
            route.fulfill(status=200, content_type="text/html", body=body)

    page.route("https://app.prolific.com/**", answer)
    return mode


class Walk:
    """One participant's browser: every page screenshotted and checked by axe."""

    def __init__(self, page, size: str, act):
        self.page, self.size, self.act = page, size, act
        SCREENSHOTS.mkdir(exist_ok=True)

    def look(self, name: str) -> None:
        self.page.screenshot(path=str(SCREENSHOTS / f"journey-{self.size}-{name}.png"))
        accessible(self.page)
        assert self.page.locator("h1").count() == 1, f"{name}: one h1"


def _through_practice(walk: Walk, base: str, study, pid: str) -> None:
    page, act = walk.page, walk.act
    page.goto(f"{base}/s/{study.slug}/?PROLIFIC_PID={pid}&STUDY_ID=ps&SESSION_ID=s-{pid}")
    walk.look("entry")
    act("#start")
    page.wait_for_selector("#id_agree")
    walk.look("consent")
    act("#id_agree")
    act("#consent")
    page.wait_for_selector("#id_lang")
    walk.look("questionnaire")
    page.select_option("#id_lang", "other")
    act("#about-you")
    # Practice 1: a wrong answer, and feedback that says what was expected and why.
    page.wait_for_selector("#practice-note")
    assert page.locator(".md pre.highlight span.k, .md pre.highlight span.nb").count() > 0
    walk.look("practice")
    _read_both(page)
    act("#choice-right")
    act("#submit")
    page.wait_for_selector("#practice-feedback")
    assert "The expected answer is A is better" in page.inner_text("#practice-verdict")
    assert "A answers the question" in page.inner_text("#practice-why")
    walk.look("practice-feedback")
    act("#continue")
    # Practice 2: right this time.
    page.wait_for_selector("#practice-note")
    _read_both(page)
    act("#choice-tie")
    act("#submit")
    page.wait_for_selector("#practice-feedback")
    assert "That is the expected answer." in page.inner_text("#practice-verdict")
    assert page.inner_text("#continue") == "Start the study"
    act("#continue")
    page.wait_for_selector("#label-form[data-ready]", state="attached")


def _read_both(page) -> None:
    """On a study that asks for it, show each response to its end (on a phone, B is a
    tab away), as a reader scrolling through would."""
    if page.get_attribute("#label-form", "data-require-both") != "true":
        return
    page.locator("#left .response-end").scroll_into_view_if_needed()
    if page.is_visible("#tab-right"):
        page.tap("#tab-right")
    page.locator("#right .response-end").scroll_into_view_if_needed()
    page.wait_for_selector("#choice-left:enabled")


def _done(walk: Walk, study, prolific: dict, base: str) -> None:
    walk.page.wait_for_url(PROLIFIC + "DONE123")
    labels = Label.objects.filter(study=study)
    assert labels.count() == PAIRS  # practice answers are not labels
    assert PracticeAnswer.objects.filter(enrollment__study=study).count() == 2
    # The done page as it flashes by (Prolific answers 204, so the browser stays on it).
    prolific["stay"] = True
    walk.page.goto(f"{base}/s/{study.slug}/done/")
    walk.page.wait_for_selector("#completion-code")
    walk.look("done")


def _pair_number(page) -> int:
    return int(page.inner_text(".progress-label").split(" / ")[0]) + 1


@pytest.fixture
def finish():
    yield
    connections.close_all()


def test_a_laptop_participant_by_mouse_and_keyboard_ends_on_prolific(
    transactional_db, live_server, chromium, finish
):
    study = _study(slug="journey-laptop")
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    prolific = _stand_in(page)
    walk = Walk(page, "laptop", page.click)
    _through_practice(walk, live_server.url, study, "laptop-1")
    walk.look("label")
    for n in range(1, PAIRS + 1):
        page.wait_for_selector(f"text={n - 1} / {PAIRS}")
        if n <= PAIRS // 2:  # by mouse
            page.click(("#choice-left", "#choice-right", "#choice-tie")[n % 3])
            page.click("#submit")
        else:  # by keyboard: a choice key, a strength key, Enter
            page.keyboard.press(("a", "b", "t")[n % 3])
            page.keyboard.press("3")
            page.keyboard.press("Enter")
        if n == 1:
            page.wait_for_selector("#label-status.saved")
            walk.look("label-saved")
    _done(walk, study, prolific, live_server.url)
    assert not errors, errors


def test_a_phone_participant_by_touch_reads_both_tabs_and_ends_on_prolific(
    transactional_db, live_server, chromium, finish
):
    study = _study(slug="journey-phone", require_both_opened=True)
    study.stimulus_sets.add(
        pair_set_make("journey-long", prompt="Explain it.", control=LONG, treated=LONG + " More.")
    )
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    prolific = _stand_in(page)
    walk = Walk(page, "phone", page.tap)
    _through_practice(walk, live_server.url, study, "phone-1")
    for n in range(1, PAIRS + 1):
        page.wait_for_selector(f"text={n - 1} / {PAIRS}")
        # A is shown, B is a tab away; the choice waits until both were read to the end.
        assert page.is_visible("#left") and not page.is_visible("#right")
        if n == 1:
            assert page.is_disabled("#choice-left") and page.is_disabled("#submit")
            assert "B" in page.inner_text("#read-both")
            walk.look("label")
            for target in ("#tab-left", "#tab-right", "label:has(#choice-left)", "#submit"):
                box = page.locator(target).bounding_box()
                assert box["height"] >= 44, f"{target} is {box['height']} px tall"
            bar = page.locator("#decide").bounding_box()
            assert bar["y"] + bar["height"] <= 844  # fixed at the bottom, in view
        _read_both(page)
        assert page.is_visible("#right") and not page.is_visible("#left")
        if n == 1:
            walk.look("label-read")
            # Stop and return asks first; going back keeps the place and the pair.
            page.tap("#stop-link")
            page.wait_for_selector("#stop-confirm")
            walk.look("stop")
            page.tap("#stop-cancel")
            page.wait_for_selector("#label-form[data-ready]", state="attached")
            _read_both(page)
        page.tap(("label:has(#choice-left)", "label:has(#choice-right)")[n % 2])
        page.tap("#submit")
    _done(walk, study, prolific, live_server.url)
    context.close()
