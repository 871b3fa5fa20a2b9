"""Submit to next pair visible on the label page, in Debian's Chromium via Playwright:
with JavaScript (the JSON API swaps the pair in place) and without it (the form posts
and the next page loads). Prints p50/p95 per path, two ways: as the robot sees it (from
Playwright's click to its seeing the new pair, which adds Playwright's own round trips
to the browser), and, with JavaScript, in the page itself (from the form's submit event
to the first frame painted after the new pair is in, by performance.now()).

Run: python tests/benchmarks/bench_label_page.py   (needs /usr/bin/chromium)
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.live_runserver import embedded_setup, served  # noqa: E402

# The per-annotator label limit (120/min) would throttle a robot; it is not what we time.
embedded_setup("bench-label-page-", LABEL_RATE="1000000/min")

PER_ANNOTATOR = 26  # 25 timed labels each; the last one goes to the done page
ANNOTATORS = {"javascript": 5, "no javascript": 2}


def _annotate(browser, base: str, slug: str, n: int, javascript: bool) -> list[float]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=javascript
    )
    page = context.new_page()
    if javascript:
        page.add_init_script(IN_PAGE_TIMER)
    page.goto(f"{base}/s/{slug}/?PROLIFIC_PID=bench-{javascript}-{n}&STUDY_ID=s&SESSION_ID=x")
    page.click("#start")
    page.check("#id_agree")
    page.click("#consent")
    page.wait_for_selector("#label-form")
    if javascript:
        page.wait_for_selector("#label-form[data-ready]", state="attached")
    times = []
    for i in range(PER_ANNOTATOR):
        current = page.input_value('input[name="assignment_id"]')
        page.click(("#choice-left", "#choice-right", "#choice-tie")[i % 3])
        if i == PER_ANNOTATOR - 1 and javascript:  # before the done page replaces this one
            IN_PAGE.extend(t / 1000 for t in page.evaluate("window.__latencies"))
        started = time.perf_counter()
        page.click("#submit")
        if i == PER_ANNOTATOR - 1:
            page.wait_for_selector("#completion-code")
            break
        page.wait_for_selector(
            f'#label-form input[name="assignment_id"]:not([value="{current}"])', state="attached"
        )
        page.wait_for_selector("#choice-left", state="visible")
        times.append(time.perf_counter() - started)
    context.close()
    return times


# Submit event to the first frame painted with the next pair (two animation frames after
# label.js announces it: the first runs before that paint, the second after it).
IN_PAGE_TIMER = """
window.__latencies = [];
document.addEventListener("submit", function () { window.__submitted = performance.now(); }, true);
document.addEventListener("pairshown", function () {
  var t0 = window.__submitted;
  requestAnimationFrame(function () { requestAnimationFrame(function () {
    window.__latencies.push(performance.now() - t0);
  }); });
});
"""
IN_PAGE: list[float] = []


def _row(path: str, times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100)
    return (
        f"{path:24s} {len(times):6d} {cuts[49] * 1000:7.0f} {cuts[94] * 1000:7.0f} "
        f"{max(times) * 1000:7.0f}"
    )


def main() -> None:
    from playwright.sync_api import sync_playwright

    from collection.models import Label
    from tests.factories import stimulus_set_make, study_make

    study = study_make(
        stimulus_set=stimulus_set_make(prompts=60),
        replication_factor=10,
        labels_per_annotator=PER_ANNOTATOR,
        completion_url_template="",
    )
    with served() as base:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-gpu"],
            )
            print(f"{'path':24s} {'labels':>6s} {'p50 ms':>7s} {'p95 ms':>7s} {'max ms':>7s}")
            for path, annotators in ANNOTATORS.items():
                times = []
                for n in range(annotators):
                    times += _annotate(browser, base, study.slug, n, path == "javascript")
                print(_row(f"{path} (robot)", times))
                if path == "javascript":
                    assert len(IN_PAGE) == len(times), "every swap was timed in the page"
                    print(_row("javascript (in page)", IN_PAGE))
            browser.close()
        expected = PER_ANNOTATOR * sum(ANNOTATORS.values())
        stored = Label.objects.filter(assignment__study=study).count()
        assert stored == expected, f"{stored} labels stored, {expected} submitted"


if __name__ == "__main__":
    main()
