"""How long Chromium takes to show a label page whose responses are pathological: one
line of 99,000 characters (imports refuse a field over 100,000), the same as words, a
400-row markdown table, 19,000 short lines. Prints the time from consent to the choice
controls being visible, per case, and its ratio to a plain pair.

Run: python tests/benchmarks/bench_label_page_pathological.py   (needs /usr/bin/chromium)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# A throwaway embedded (SQLite) instance: this process writes the studies, a runserver
# subprocess on the same database serves the pages.
os.environ["COUNTERPOINT_VAR_DIR"] = tempfile.mkdtemp(prefix="bench-pathological-")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["ENTRY_RATE_PER_MINUTE"] = "1000000"
os.environ["LOG_LEVEL"] = "WARNING"
# Playwright's sync API runs an event loop in this thread; the ORM calls are synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

CASES = {
    "plain": "A short, ordinary answer.\n\nWith two paragraphs.",
    # Imports refuse a field over 100,000 characters (interventions/import_rows.py).
    "one 99,000-character line": "x" * 99_000,
    "99,000 characters of words on one line": ("word " * 19_800).strip(),
    "400-row table": "| a | b | c |\n|---|---|---|\n" + "| 1 | 2 | 3 |\n" * 400,
    "19,000 short lines": "line\n" * 19_000,
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    from collection.models import Study
    from tests.factories import pair_set_make

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
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
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
