"""Run Counterpoint with the demo study: migrate, seed, start a worker and a web server."""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from collection.demo import RESEARCHER, demo_researcher_password, demo_seed
from config.access_log import ACCESS_LOG_FORMAT
from interventions.models import StimulusSet

GENERATION_WAIT_SECONDS = 120


def web_command(python: str, port: int) -> list[str]:
    """The demo's gunicorn: two workers on loopback, no control socket (it would be written
    to ~/.gunicorn/, outside the project, and nothing uses it)."""
    web_args = ["config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    log_args = ["--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT]
    return [python, "-m", "gunicorn", *web_args, *log_args, "--no-control-socket"]


class Command(BaseCommand):
    help = "Start web server and Celery worker with a seeded demo study, and print the links."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--seed-only", action="store_true", help="migrate and seed, start nothing"
        )

    def handle(self, *args, port: int, seed_only: bool, **options):
        call_command("migrate", verbosity=0)
        study = demo_seed()
        if seed_only:
            self.stdout.write(f"seeded study '{study.slug}'")
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        python = sys.executable
        # The worker also runs beat, the periodic tasks (expiry, sweeps), for the demo.
        worker_args = ["worker", "--beat", "--loglevel=INFO", "--concurrency=2"]
        worker_args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        worker_args += ["--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
        worker = subprocess.Popen([python, "-m", "celery", "-A", "config", *worker_args])
        web = subprocess.Popen(web_command(python, port))
        children = (worker, web)
        # A plain `kill` of this command must stop its children too, as Ctrl-C does.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self._wait_for_generation(children)
            self._print_links(port, study.slug)
            while all(child.poll() is None for child in children):
                time.sleep(1)
            raise CommandError("the worker or the web server stopped; see its output above")
        except KeyboardInterrupt:
            self.stdout.write("stopping")
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)

    def _wait_for_generation(self, children) -> None:
        deadline = time.monotonic() + GENERATION_WAIT_SECONDS
        done = StimulusSet.GenerationStatus.DONE
        while StimulusSet.objects.exclude(generation_status=done).exists():
            if any(child.poll() is not None for child in children):
                raise CommandError("the worker or the web server failed to start; see above")
            if time.monotonic() > deadline:
                raise CommandError("stimulus generation did not finish; see the worker's log")
            time.sleep(0.5)

    def _print_links(self, port: int, slug: str) -> None:
        base = f"http://127.0.0.1:{port}"
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        broker = "redis" if settings.REDIS_URL else "embedded filesystem broker"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Counterpoint demo is running (Ctrl-C stops it).",
                    f"  database: {database}; broker: {broker}; one Celery worker",
                    f"  Researcher (admin):  {base}/admin/   user '{RESEARCHER}', "
                    f"password '{demo_researcher_password()}'",
                    f"  Annotator link:      {base}/s/{slug}/",
                    f"  As a Prolific user:  {base}/s/{slug}/?PROLIFIC_PID=demo-pid-1"
                    "&STUDY_ID=demo&SESSION_ID=s1",
                    "",
                ]
            )
        )
        self.stdout.flush()
