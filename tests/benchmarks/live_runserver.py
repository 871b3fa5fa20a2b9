"""A throwaway embedded (SQLite) instance for the browser benchmarks: the benchmark's
process writes the studies, a runserver subprocess on the same database serves pages."""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def embedded_setup(prefix: str, **env: str) -> None:
    """Point Django at a fresh var dir (no PostgreSQL, no Redis), migrate, collect static."""
    sys.path.insert(0, str(ROOT))
    os.environ["COUNTERPOINT_VAR_DIR"] = tempfile.mkdtemp(prefix=prefix)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["ENTRY_RATE_PER_MINUTE"] = "1000000"
    os.environ["LOG_LEVEL"] = "WARNING"
    # Playwright's sync API runs an event loop in this thread; the ORM calls are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)


@contextlib.contextmanager
def served() -> Iterator[str]:
    """runserver on a free port until the block ends; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(os.environ["COUNTERPOINT_VAR_DIR"]) / "server.log", "w"),  # noqa: SIM115
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
