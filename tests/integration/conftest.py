"""A real Celery worker process, consuming from Redis and writing to the test database."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.services import require_postgres_and_redis

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen, ready: str):
        self.process = process
        self.ready_text = ready
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if self.ready_text in line:
                self.ready.set()

    def log(self) -> str:
        return "".join(self.lines[-80:])

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


def service_env() -> dict[str, str]:
    """The environment of a Celery process that shares this test's database and broker."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "COUNTERPOINT_VAR_DIR": str(settings.VAR_DIR),
        "CONN_MAX_AGE": "0",
    }


def process_start(command: list[str], *, ready: str, what: str) -> Worker:
    """Start a Celery process and wait until it prints ``ready``."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=service_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = Worker(process, ready=ready)
    if not worker.ready.wait(READY_TIMEOUT):
        process.kill()
        pytest.fail(f"the {what} did not start within {READY_TIMEOUT}s:\n{worker.log()}")
    return worker


def process_stop(worker: Worker) -> None:
    worker.process.terminate()
    try:
        worker.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.process.kill()


def worker_start(*, purge: bool = True) -> Worker:
    """A worker on this test's queue; ``--purge`` drops what earlier tests left queued
    (``purge=False`` for a worker taking over from one this test killed)."""
    require_postgres_and_redis()
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"]
    # One slot, as each prefork child has: a solo worker of the default concurrency (one
    # per CPU) would also reserve a message it cannot start, hiding it from other workers.
    command += ["--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    command += ["--purge"] if purge else []
    command += ["-n", f"test-{os.getpid()}@%h"]
    return process_start(command, ready=" ready.", what="Celery worker")


@pytest.fixture
def celery_worker_process(transactional_db):
    worker = worker_start()
    yield worker
    process_stop(worker)


def eventually(condition, *, timeout: float):
    """Poll ``condition`` until it returns something truthy (returned) or time runs out
    (None)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return None


def wait_for(condition, *, timeout: float, worker: Worker, what: str):
    value = eventually(condition, timeout=timeout)
    if value:
        return value
    pytest.fail(f"timed out after {timeout}s waiting for {what}; worker log:\n{worker.log()}")
