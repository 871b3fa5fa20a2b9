"""A whole deployment of the test's own: PostgreSQL and Redis servers on ports nobody
else uses, gunicorn web hosts and Celery worker hosts, so that a fault test can stop and
restart any of them without touching the services the rest of the suite (or another
project) runs on.

Each piece is a real process started from the installed binaries; nothing is simulated.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.services import require

ROOT = Path(__file__).resolve().parents[2]
PG_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
HOW_TO_RUN = (
    "needs PostgreSQL's server binaries (Debian's postgresql package: initdb, pg_ctl) and "
    "redis-server on this machine; bash .ci/run runs it"
)
# Shared by every web and worker host, as a real deployment must share them (README,
# "Scaling out"): cookies signed by one host are read by the other.
SECRET_KEY = "fault-suite-secret-key-shared-by-every-host-0123456789abcdef"
PSEUDONYM_KEY = "fault-suite-pseudonym-key-shared-by-every-host-0123456789"


def require_cluster_binaries() -> None:
    require(
        bool(PG_BINARIES) and shutil.which("redis-server") is not None,
        "a PostgreSQL server and redis-server",
        HOW_TO_RUN,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.5):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class OwnPostgres:
    """A throwaway PostgreSQL cluster in a temporary folder (fsync off: it holds test
    data only, and a restart is still a real restart of the server)."""

    def __init__(self) -> None:
        self.bin = PG_BINARIES[-1]
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="cp-faults-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE counterpoint")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "counterpoint") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._run("pg_ctl", action, "-D", str(self.data), "-w", "-l", log, "-o", options, *args)

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        # Immediate: connections are cut, as when the database host fails.
        self._pg_ctl("stop", "-m", "immediate")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class OwnRedis:
    """A redis-server on its own port that keeps nothing on disk: stopping it loses every
    queued message, the harshest broker outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(lambda: port_open(self.port), timeout=20, what="redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def close(self) -> None:
        self.stop()


class Host:
    """One process of the deployment (a gunicorn web host or a Celery worker host) whose
    output is kept for the failure message."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.lines: list[str] = []
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a signal to the host reaches its children too
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def log(self, lines: int = 60) -> str:
        return f"--- {self.name} ---\n" + "".join(self.lines[-lines:])

    def signal(self, number: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, number)

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=10)


class Deployment:
    """PostgreSQL, Redis, ``web`` gunicorn hosts and ``workers`` Celery hosts, all the
    test's own. Every host gets the same secret and pseudonym keys and its own port."""

    def __init__(
        self,
        *,
        web: int = 1,
        workers: int = 1,
        wsgi: str = "config.wsgi",
        web_env: dict[str, str] | None = None,
    ) -> None:
        require_cluster_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="cp-faults-"))
        self.postgres = OwnPostgres()
        self.redis = OwnRedis()
        self.queue = f"faults-{os.getpid()}"
        self.wsgi = wsgi
        # Four threads, not production's one: more requests are in flight on each host
        # when a fault strikes.
        self.web_env = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4", **(web_env or {})}
        self.webs: list[Host] = []
        self.workers: list[Host] = []
        try:
            self.manage("demo", "--seed-only")
            self.manage("collectstatic", "--noinput", "--verbosity=0")
            for k in range(workers):
                self.workers.append(self._worker(k))
            self.workers.append(self._beat())
            for k in range(web):
                self.webs.append(self._web(k))
            for host in self.workers + self.webs:
                host.start()
            for host in self.webs:
                self.wait_ready(host)
            wait_until(self._generated, timeout=180, what="the demo's stimulus generation")
        except BaseException:
            self.close()
            raise

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CI_"))}
        return {
            **keep,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": self.postgres.url(),
            "REDIS_URL": self.redis.url(),
            "CELERY_QUEUE": self.queue,
            "COUNTERPOINT_VAR_DIR": str(self.folder),
            "SECRET_KEY": SECRET_KEY,
            "PSEUDONYM_KEY": PSEUDONYM_KEY,
            "LOG_LEVEL": "WARNING",
            # The fault tests hammer one study from one address: limits are not the subject.
            "ENTRY_RATE_PER_MINUTE": "100000",
            "LABEL_RATE": "100000/min",
            # Shedding answers 503 when a request waited for a thread, which on a busy CI
            # machine depends on everything else running: tests/test_load_shedding.py
            # covers it, and here any 5xx must come from the fault being staged.
            "SHED_QUEUE_SECONDS": "0",
            # The sweep that finds labels whose refresh message was lost, every 5 s here.
            "ANALYSIS_SWEEP_SECONDS": "5",
            **extra,
        }

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def _web(self, k: int) -> Host:
        port = free_port()
        env = self.env(BIND=f"127.0.0.1:{port}", **self.web_env)
        command = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        host = Host(f"web{k}", [*command, self.wsgi], env)
        host.port = port  # type: ignore[attr-defined]
        return host

    def _worker(self, k: int) -> Host:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker"]
        command += ["--concurrency=1", "--loglevel=WARNING", "-n", f"fault{k}-{os.getpid()}@%h"]
        command += ["--without-gossip", "--without-mingle"]
        return Host(f"worker{k}", command, self.env())

    def _beat(self) -> Host:
        command = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING"]
        command += ["--schedule", str(self.folder / "celerybeat-schedule")]
        return Host("beat", command, self.env())

    def base_url(self, host: Host) -> str:
        return f"http://127.0.0.1:{host.port}"  # type: ignore[attr-defined]

    def wait_ready(self, host: Host, timeout: float = 60) -> None:
        def ready() -> bool:
            try:
                import requests

                return requests.get(self.base_url(host) + "/healthz", timeout=2).ok
            except OSError:
                return False

        try:
            wait_until(ready, timeout=timeout, what=f"{host.name} to answer /healthz")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{host.log()}") from None

    def _generated(self) -> bool:
        with psycopg.connect(self.postgres.url()) as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE generation_status <> 'done'), count(*) "
                "FROM interventions_stimulusset"
            ).fetchone()
        return bool(row and row[1] and row[0] == 0)

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.postgres.url(), autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def audit_estimates(self, slug: str) -> dict:
        """The study's stored estimates against a from-scratch recompute (see audit.py)."""
        out = subprocess.run(
            [sys.executable, "-m", "tests.faults.audit", slug],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    def wait_settled(self, slug: str, timeout: float = 120) -> None:
        report: dict = {}

        def settled() -> bool:
            report.update(self.audit_estimates(slug))
            return bool(report["settled"])

        try:
            wait_until(settled, timeout=timeout, what="estimates equal to a from-scratch recompute")
        except AssertionError as error:
            raise AssertionError(f"{error}: {report}\n{self.logs()}") from None

    def logs(self) -> str:
        return "\n".join(host.log() for host in self.webs + self.workers)

    def close(self) -> None:
        for host in self.webs + self.workers:
            host.stop()
        self.redis.close()
        self.postgres.close()
        shutil.rmtree(self.folder, ignore_errors=True)
