"""How long Chromium takes to show a label page whose responses are pathological: one
line of 99,000 characters (imports refuse a field over 100,000), the same as words, a
400-row markdown table, 19,000 short lines. Prints the time from consent to the choice
controls being visible, per case, and its ratio to a plain pair.

Run: python tests/benchmarks/bench_label_page_pathological.py   (needs /usr/bin/chromium)
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.live_runserver import embedded_setup, served  # noqa: E402

embedded_setup("bench-pathological-")

CASES = {
    "plain": "A short, ordinary answer.\n\nWith two paragraphs.",
    # Imports refuse a field over 100,000 characters (interventions/import_rows.py).
    "one 99,000-character line": "x" * 99_000,
    "99,000 characters of words on one line": ("word " * 19_800).strip(),
    "400-row table": "| a | b | c |\n|---|---|---|\n" + "| 1 | 2 | 3 |\n" * 400,
    "19,000 short lines": "line\n" * 19_000,
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    from collection.models import Study
    from tests.factories import pair_set_make

    with served() as base:
        results = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-gpu"],
            )
            for n, (name, text) in enumerate(CASES.items()):
                pair_set = pair_set_make(
                    f"bench-{n}", prompt="Question?", control=text, treated=text + " More."
                )
                study = Study.objects.create(
                    slug=f"bench-{n}", title="Bench", status="running", labels_per_annotator=1,
                    replication_factor=1, consent_text="ok", completion_code="X", seed=n,
                )  # fmt: skip
                study.stimulus_sets.add(pair_set)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                answer = page.goto(f"{base}/s/{study.slug}/")
                assert answer is not None and answer.ok, (
                    answer and answer.status,
                    page.content()[:500],
                )
                page.click("#start")
                page.check("#id_agree")
                started = time.perf_counter()
                page.click("#consent")
                page.wait_for_selector("#choice-left", state="visible", timeout=180_000)
                results[name] = time.perf_counter() - started
                page.close()
            browser.close()
        plain = results["plain"]
        print(f"{'case':42s} {'seconds':>8s} {'x plain':>8s}")
        for name, seconds in results.items():
            print(f"{name:42s} {seconds:8.2f} {seconds / plain:8.1f}")


if __name__ == "__main__":
    main()
