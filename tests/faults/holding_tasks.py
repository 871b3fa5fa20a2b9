"""The production Celery app with two tasks of the tests' own, for a worker started with
``-A tests.faults.holding_tasks``: one holds its message (acknowledged late, as ours are)
for as long as it is told, one marks that it ran."""

import time
from pathlib import Path

from config.celery import app


@app.task(name="tests.hold", acks_late=True)
def hold(seconds: float, started: str, done: str) -> None:
    Path(started).touch()
    time.sleep(seconds)
    Path(done).touch()


@app.task(name="tests.mark")
def mark(path: str) -> None:
    Path(path).touch()
