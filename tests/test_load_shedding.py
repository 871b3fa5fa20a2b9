"""Load shedding: a request that waited too long for a gunicorn thread gets a 503 with
Retry-After at once instead of a late answer; probes are never shed."""

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.http import HttpResponse
from django.test import RequestFactory

from config import load_shedding
from config.load_shedding import LoadSheddingMiddleware
from tests.faults.cluster import free_port, port_open, wait_until

ROOT = Path(__file__).resolve().parent.parent


def _waited(seconds):
    load_shedding._waited.seconds = seconds


@pytest.fixture
def middleware():
    yield LoadSheddingMiddleware(lambda request: HttpResponse("served"))
    _waited(None)


@pytest.mark.parametrize(
    ("path", "waited", "status"),
    [
        ("/api/studies/x/labels/", 1.5, 503),
        ("/s/x/", 1.5, 503),
        ("/api/studies/x/labels/", 0.5, 200),
        ("/api/studies/x/labels/", None, 200),  # not under gunicorn's timed worker
        ("/healthz", 9.0, 200),
        ("/readyz", 9.0, 200),
        ("/metrics", 9.0, 200),
    ],
)
def test_a_request_that_waited_past_the_limit_is_shed(middleware, settings, path, waited, status):
    settings.SHED_QUEUE_SECONDS = 1.0
    _waited(waited)
    response = middleware(RequestFactory().get(path))
    assert response.status_code == status
    if status == 503:
        assert response["Retry-After"] == "5"
        assert ("application/json" in response["Content-Type"]) == path.startswith("/api/")


def test_zero_turns_shedding_off(middleware, settings):
    settings.SHED_QUEUE_SECONDS = 0
    _waited(30.0)
    assert middleware(RequestFactory().get("/s/x/")).status_code == 200


def _flood(limit: str, tmp_path) -> dict[int, int]:
    """80 requests at once against one gunicorn thread (the production config file)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "COUNTERPOINT_VAR_DIR": str(tmp_path),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "1",
        "SHED_QUEUE_SECONDS": limit,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: port_open(port), timeout=60, what="gunicorn")
        # A page that needs no database: Django's 404, rendered by the one thread.
        url = f"http://127.0.0.1:{port}/no-such-page/"
        assert requests.get(url, timeout=10).status_code == 404
        barrier = threading.Barrier(80)

        def one(_: int) -> int:
            barrier.wait()
            return requests.get(url, timeout=60).status_code

        with ThreadPoolExecutor(80) as pool:
            codes = list(pool.map(one, range(80)))
        probe = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code
        assert probe == 200
        return {code: codes.count(code) for code in set(codes)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_gunicorn_sheds_a_burst_it_cannot_serve_in_time(tmp_path):
    # One thread serves the 80 one after another: the last ones wait far past 20 ms.
    shed = _flood("0.02", tmp_path / "on")
    assert shed.get(503, 0) > 0 and shed.get(404, 0) > 0, shed
    # The same burst with shedding off: every request waits its turn.
    assert _flood("0", tmp_path / "off") == {404: 80}
