"""The deployment files start what they say: honcho runs the Procfile's web, worker and
beat on the embedded defaults, and the compose file declares the same processes beside
PostgreSQL and Redis."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests
import yaml

from tests.faults.cluster import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def test_compose_runs_web_worker_and_beat_beside_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    assert "celery -A config worker" in services["worker"]["command"]
    assert "celery -A config beat" in services["beat"]["command"]
    for name in ("web", "worker", "beat"):  # one image, one environment, one database
        assert services[name]["environment"] == services["web"]["environment"]


def test_honcho_starts_the_procfile_and_stops_it(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "COUNTERPOINT_VAR_DIR": str(tmp_path),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
        "CELERY_QUEUE": f"launcher-{os.getpid()}",
        # As in an activated virtualenv, where the Procfile's python and celery are found.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [sys.executable, "-m", "honcho", "-f", "deploy/Procfile", "-d", ".", "start"]
    honcho = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(honcho.stdout), daemon=True).start()

    def ready() -> bool:
        assert honcho.poll() is None, "honcho stopped"
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False  # not listening yet, or too busy starting (a loaded machine) to answer

    try:
        wait_until(ready, timeout=120, what="the web process to be ready (migrated)")
        wait_until(lambda: any(" ready." in line for line in lines), timeout=60, what="the worker")
        wait_until(
            lambda: any("beat" in line and "Starting" in line for line in lines),
            timeout=60,
            what="beat",
        )
        # A page needs the collected static files.
        assert requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10).ok
    except AssertionError as error:
        raise AssertionError(f"{error}\n{''.join(lines[-60:])}") from None
    finally:
        honcho.send_signal(signal.SIGTERM)
        honcho.wait(timeout=60)
    names = {line.split("|")[0].split(".")[0].split()[-1] for line in lines if "|" in line}
    assert {"web", "worker", "beat"} <= names, names
