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
    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if " ready." in line:
                self.ready.set()

    def log(self) -> str:
        return "".join(self.lines[-80:])

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


@pytest.fixture
def celery_worker_process(transactional_db):
    require_postgres_and_redis()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "COUNTERPOINT_VAR_DIR": str(settings.VAR_DIR),
        "CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--purge",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    worker = Worker(process)
    if not worker.ready.wait(READY_TIMEOUT):
        process.kill()
        pytest.fail(f"the Celery worker did not start within {READY_TIMEOUT}s:\n{worker.log()}")
    yield worker
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_for(condition, *, timeout: float, worker: Worker, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; worker log:\n{worker.log()}")
