"""Submit to next pair visible on the label page, in Debian's Chromium via Playwright:
with JavaScript (the JSON API swaps the pair in place) and without it (the form posts
and the next page loads). Prints p50/p95 per path.

Run: python tests/benchmarks/bench_label_page.py   (needs /usr/bin/chromium)
"""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# A throwaway embedded (SQLite) instance: this process writes the study, a runserver
# subprocess on the same database serves the pages (as bench_label_page_pathological).
os.environ["COUNTERPOINT_VAR_DIR"] = tempfile.mkdtemp(prefix="bench-label-page-")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["ENTRY_RATE_PER_MINUTE"] = "1000000"
# The per-annotator label limit (120/min) would throttle a robot; it is not what we time.
os.environ["LABEL_RATE"] = "1000000/min"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

PER_ANNOTATOR = 26  # 25 timed labels each; the last one goes to the done page
ANNOTATORS = {"javascript": 5, "no javascript": 2}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _annotate(browser, base: str, slug: str, n: int, javascript: bool) -> list[float]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, java_script_enabled=javascript
    )
    page = context.new_page()
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


def main() -> None:
    from playwright.sync_api import sync_playwright

    from collection.models import Label
    from tests.factories import stimulus_set_make, study_make

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=60),
        replication_factor=10,
        labels_per_annotator=PER_ANNOTATOR,
        completion_url_template="",
    )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(os.environ["COUNTERPOINT_VAR_DIR"]) / "server.log", "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                args=["--no-sandbox", "--disable-gpu"],
            )
            print(f"{'path':14s} {'labels':>6s} {'p50 ms':>7s} {'p95 ms':>7s} {'max ms':>7s}")
            for path, annotators in ANNOTATORS.items():
                times = []
                for n in range(annotators):
                    times += _annotate(browser, base, study.slug, n, path == "javascript")
                cuts = statistics.quantiles(times, n=100)
                print(
                    f"{path:14s} {len(times):6d} {cuts[49] * 1000:7.0f} {cuts[94] * 1000:7.0f} "
                    f"{max(times) * 1000:7.0f}"
                )
            browser.close()
        expected = PER_ANNOTATOR * sum(ANNOTATORS.values())
        stored = Label.objects.filter(assignment__study=study).count()
        assert stored == expected, f"{stored} labels stored, {expected} submitted"
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
