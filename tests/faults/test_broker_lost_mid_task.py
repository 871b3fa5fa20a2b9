"""A worker that holds an unacknowledged message when Redis goes away lives on, finishes
that task, and runs the next one once Redis is back.

Celery 5.7.0 closes a lost connection a second time after collecting it. When the
consumer was waiting on Redis for more work with a message in hand (two processes, one
busy), kombu's second close tries to put the message back through a client the first
one dropped, fails with an AttributeError, and the worker exits ("Unrecoverable
error"): refreshes then wait for someone to restart it. Seen in the fault suite's Redis
outage; this test stages it every time and fails on 5.7.0. The lockfile pins Celery
5.6.3, which only collects.
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
from celery import Celery

from tests.faults.cluster import Host, OwnRedis, wait_until
from tests.services import require

pytestmark = pytest.mark.services

QUEUE = "broker-lost"


def test_a_worker_holding_a_message_survives_the_broker_going_away():
    require(
        shutil.which("redis-server") is not None,
        "redis-server",
        "install Debian's redis-server package; bash .ci/run runs it",
    )
    redis = OwnRedis()
    folder = Path(tempfile.mkdtemp(prefix="cp-broker-lost-"))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": redis.url(),
        "CELERY_QUEUE": QUEUE,
        "COUNTERPOINT_VAR_DIR": str(folder),
        "LOG_LEVEL": "WARNING",
    }
    # Two processes: while one holds the message, the consumer waits on Redis for work
    # for the other, as a busy production worker does.
    command = [sys.executable, "-m", "celery", "-A", "tests.faults.holding_tasks", "worker"]
    command += ["--concurrency=2", "--loglevel=INFO", "--without-gossip", "--without-mingle"]
    worker = Host("worker", command, env)
    worker.start()
    assert worker.process is not None
    # Not the process's current app: the rest of the suite sends through its own.
    sender = Celery(broker=redis.url(), set_as_current=False)

    def send(name: str, *args: object) -> None:
        sender.send_task(name, args=args, queue=QUEUE)

    def ran(path: Path, what: str) -> None:
        try:
            wait_until(path.exists, timeout=60, what=what)
        except AssertionError as error:
            code = worker.process.poll()
            alive = "running" if code is None else f"exited {code}"
            raise AssertionError(f"{error}; the worker is {alive}:\n{worker.log()}") from None

    try:
        send("tests.mark", str(folder / "first"))
        ran(folder / "first", "the worker to run a task")
        send("tests.hold", 8.0, str(folder / "holding"), str(folder / "held"))
        ran(folder / "holding", "the worker to take the holding task")
        redis.stop()  # while the worker holds the message, unacknowledged
        time.sleep(2)
        redis.start()
        send("tests.mark", str(folder / "after"))
        ran(folder / "after", "the worker to run a task sent after Redis came back")
        ran(folder / "held", "the held task to finish")
        send("tests.mark", str(folder / "last"))
        ran(folder / "last", "the worker to run a task after acknowledging the held one")
        assert worker.process.poll() is None
    finally:
        sender.close()
        worker.stop()
        redis.close()
        shutil.rmtree(folder, ignore_errors=True)
