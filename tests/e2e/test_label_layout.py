"""The label page's layout in Chromium: on a 1280x800 laptop the choice and the submit
button are in view without scrolling and stay in view while long answers are read; on a
390x844 phone the header keeps to one line and the choices are touch-sized."""

import pytest
from django.db import connections

from tests.e2e.browser import SCREENSHOTS, accessible
from tests.factories import pair_set_make, study_make

pytestmark = pytest.mark.browser

LONG = "\n\n".join(
    f"Paragraph {n}: " + "a sentence of an ordinary answer. " * 12 for n in range(14)
)


def _study():
    return study_make(
        stimulus_set=pair_set_make(
            "layout",
            prompt="Explain it at length.",
            control=LONG,
            treated=LONG + "\n\nOne more paragraph.",
        ),
        labels_per_annotator=1,
        replication_factor=2,
        title="A study with a rather long title that would wrap on a phone",
    )


def _to_label_page(page, base, study):
    page.goto(f"{base}/s/{study.slug}/")
    page.click("#start")
    page.check("#id_agree")
    page.click("#consent")
    page.wait_for_selector("#label-form")


def _in_view(page, selector: str, height: int) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_the_decision_is_in_view_on_a_laptop_and_touch_sized_on_a_phone(
    transactional_db, live_server, chromium
):
    try:
        study = _study()
        laptop = chromium.new_page(viewport={"width": 1280, "height": 800})
        _to_label_page(laptop, live_server.url, study)
        assert laptop.evaluate("document.documentElement.scrollHeight") > 1600  # long answers
        assert _in_view(laptop, "#choice-left", 800) and _in_view(laptop, "#submit", 800)
        laptop.mouse.wheel(0, 1200)
        laptop.wait_for_timeout(200)
        assert _in_view(laptop, "#choice-right", 800) and _in_view(laptop, "#submit", 800)
        SCREENSHOTS.mkdir(exist_ok=True)
        laptop.screenshot(path=str(SCREENSHOTS / "label-laptop-scrolled.png"))
        accessible(laptop)
        laptop.close()

        phone = chromium.new_page(viewport={"width": 390, "height": 844})
        _to_label_page(phone, live_server.url, study)
        phone.screenshot(path=str(SCREENSHOTS / "label-phone.png"))
        assert phone.locator(".brand").bounding_box()["height"] < 30  # the title on one line
        radio = phone.locator("#choice-left").bounding_box()
        assert radio["width"] >= 20 and radio["height"] >= 20
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
        phone.screenshot(path=str(SCREENSHOTS / "label-phone.png"))
        phone.close()
    finally:
        connections.close_all()
