"""Benchmark: the assignment engine through the HTTP API, under gunicorn on PostgreSQL.

    .venv/bin/python tests/benchmarks/bench_assignment.py [--quick]

Creates a dedicated PostgreSQL database (on the server of DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/postgres), migrates it, starts gunicorn with the
production settings file (deploy/gunicorn.conf.py) on Redis as in production (REDIS_URL,
default redis://127.0.0.1:6379/14: the broker the labels' refresh messages go to) and
measures, with annotators that entered through the real pages:

1. p50/p99 of a next-plus-submit cycle as the stimulus pool grows from 1,000 to
   1,000,000 stimuli (aim: flat; the pool is bulk-inserted with INSERT ... SELECT);
2. cycles per second and p50/p99 at 16 and 64 concurrent annotators;
3. in the same run, a bare DRF endpoint that inserts one row, and the ratio of the
   API's requests per second to it (aim: at least 0.5), in rounds of API then bare
   insert back to back (--rounds), reported as medians; and the server's CPU per
   request (gunicorn workers plus PostgreSQL backends, from /proc), which does not
   depend on how much of the two cores the load generator in this process takes.

The database is dropped at the end. Figures depend on the machine: they are indicative.
"""

import argparse
import asyncio
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.benchmarks.proc_cpu import TICK, cpu_ticks  # noqa: E402

# --- The WSGI app gunicorn serves: the project's URLs plus the bare endpoint -------------

if __name__ != "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings as _settings

    _settings.ROOT_URLCONF = __name__
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()  # sets Django up before the imports below
    from django.db import connection as _connection
    from django.urls import path as _path
    from rest_framework import serializers as _serializers
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response as _Response
    from rest_framework.views import APIView

    from config.urls import urlpatterns as _project_urls

    class _RowIn(_serializers.Serializer):
        payload = _serializers.CharField(max_length=200)

    class BareInsert(APIView):
        """The floor to compare against: parse a JSON body, insert one row, answer."""

        authentication_classes: list = []
        permission_classes = [AllowAny]

        def post(self, request):
            body = _RowIn(data=request.data)
            body.is_valid(raise_exception=True)
            with _connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO bench_row (payload) VALUES (%s) RETURNING id",
                    [body.validated_data["payload"]],
                )
                (row_id,) = cursor.fetchone()
            return _Response({"id": row_id}, status=201)

    urlpatterns = [*_project_urls, _path("bench/insert/", BareInsert.as_view())]


# --- Database and fixture -----------------------------------------------------------


def _db_url(base: str, name: str) -> str:
    return urlunparse(urlparse(base)._replace(path=f"/{name}"))


def _admin(base: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(_db_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _copy_rows(model, template_pk: int, n: int, overrides: dict[str, str]) -> None:
    """Insert ``n`` copies of a template row in one INSERT ... SELECT over
    generate_series(1, n) AS g, with some columns computed from g."""
    from django.db import connection

    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    select = [overrides.get(c, f't."{c}"') for c in columns]
    table = model._meta.db_table
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" ({quoted}) SELECT {", ".join(select)} '
            f'FROM "{table}" t, generate_series(1, %s) AS g WHERE t."id" = %s',
            [n, template_pk],
        )


class Fixture:
    """One running study over one stimulus set that grows between measurements."""

    def __init__(self):
        from collection.models import Study
        from interventions.models import Prompt, Response, Stimulus, StimulusSet

        self.Response, self.Stimulus = Response, Stimulus
        prompt = Prompt.objects.create(source="bench", external_id="1", text="Which is **better**?")
        common = {"prompt": prompt, "origin": "imported", "generator": ""}
        self.control = Response.objects.create(text="A short answer.", model_name="c", **common)
        treated = Response.objects.create(
            text="A longer answer, with *more* words in it.", model_name="t", **common
        )
        self.stimulus_set = StimulusSet.objects.create(
            name="bench", response_source="bench", seed=1
        )
        self.template = Stimulus.objects.create(
            stimulus_set=self.stimulus_set,
            prompt=prompt,
            control=self.control,
            treated=treated,
            cell="length",
            treatment={"length": 1},
            measures_control={},
            measures_treated={},
            check_status="passed",
        )
        self.size = 1
        self.study = Study.objects.create(
            slug="bench",
            title="bench",
            status="running",
            replication_factor=3,
            labels_per_annotator=10_000,
            consent_text="ok",
            instructions="pick",
            completion_code="BENCH",
            seed=1,
        )
        self.study.stimulus_sets.add(self.stimulus_set)

    def grow(self, size: int) -> float:
        """Grow the pool to ``size`` stimuli (sharing responses); seconds it took."""
        from collection.services import study_slots_build

        started = time.perf_counter()
        n = size - self.size
        if n > 0:
            last = self.Response.objects.order_by("-pk").values_list("pk", flat=True).first()
            # Each stimulus needs its own control row (one stimulus per control and cell).
            _copy_rows(
                self.Response, self.control.pk, n, {"model_name": f"'bench-' || ({last} + g)"}
            )
            _copy_rows(
                self.Stimulus,
                self.template.pk,
                n,
                {"control_id": f"{last} + g"},
            )
            self.size = size
            study_slots_build(study=self.study)
        return time.perf_counter() - started


# --- Load generation ------------------------------------------------------------------


async def _enrolled(client, base: str) -> None:
    entry = f"{base}/s/bench/"
    page = await client.get(entry)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    consent = await client.post(entry, data={"csrfmiddlewaretoken": token}, follow_redirects=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', consent.text).group(1)
    await client.post(str(consent.url), data={"agree": "on", "csrfmiddlewaretoken": token})
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    client.headers["Referer"] = entry


async def _cycle(client, base: str) -> None:
    nxt = await client.post(f"{base}/api/studies/bench/next/")
    body = nxt.json()
    if body["status"] != "pair":
        raise RuntimeError(f"no pair: {body}")
    label = await client.post(
        f"{base}/api/studies/bench/labels/",
        json={
            "assignment_id": body["pair"]["assignment_id"],
            "submission_id": str(uuid.uuid4()),
            "choice": "left",
            "strength": 2,
        },
    )
    if label.status_code != 201:
        raise RuntimeError(f"label refused: {label.status_code} {label.text}")


async def _bare(client, base: str) -> None:
    response = await client.post(f"{base}/bench/insert/", json={"payload": "x"})
    if response.status_code != 201:
        raise RuntimeError(f"bare insert failed: {response.status_code}")


class ServerCPU:
    """CPU seconds used by the gunicorn workers and by the PostgreSQL backends of the
    benchmark's database, read from /proc: the server's cost of a request, whatever share
    of the two cores the load generator in this process takes. Backends come and go
    (connections live CONN_MAX_AGE), so a window counts each process's own growth."""

    def __init__(self, gunicorn_pid: int, admin_url: str, db_name: str):
        self.gunicorn_pid, self.admin_url, self.db_name = gunicorn_pid, admin_url, db_name

    def _pids(self) -> list[int]:
        import psycopg

        children = Path(f"/proc/{self.gunicorn_pid}/task/{self.gunicorn_pid}/children")
        workers = [int(p) for p in children.read_text().split()]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.db_name]
            ).fetchall()
        return workers + [pid for (pid,) in rows]

    def snapshot(self) -> dict[tuple[int, int], int]:
        """(pid, start time) -> CPU ticks (user + system) so far."""
        read = (cpu_ticks(pid) for pid in self._pids())
        return dict(r for r in read if r is not None)  # None: ended since it was listed

    def seconds(self, before: dict, after: dict) -> float:
        """CPU used between two snapshots by the processes alive at the second (one that
        ended in between loses its last moments: a slight undercount)."""
        return sum(t - before.get(key, 0) for key, t in after.items()) / TICK


async def _load(
    base: str, concurrency: int, seconds: float, bare: bool, cpu: ServerCPU
) -> tuple[list[float], float, float]:
    """Latencies of the requests (cycles) made in ``seconds``, the seconds they took and
    the server CPU seconds they used. The annotators enter and consent first, off the
    clock."""
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(timeout=30, limits=limits) for _ in range(concurrency)]
    try:
        if not bare:
            await asyncio.gather(*(_enrolled(c, base) for c in clients))
        latencies: list[float] = []
        cpu_before = cpu.snapshot()
        started = time.perf_counter()
        stop = started + seconds

        async def worker(client):
            while time.perf_counter() < stop:
                begun = time.perf_counter()
                await (_bare(client, base) if bare else _cycle(client, base))
                latencies.append(time.perf_counter() - begun)

        await asyncio.gather(*(worker(c) for c in clients))
        elapsed = time.perf_counter() - started
        return latencies, elapsed, cpu.seconds(cpu_before, cpu.snapshot())
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def _measure(base: str, concurrency: int, seconds: float, cpu: ServerCPU, bare=False) -> dict:
    latencies, elapsed, cpu_seconds = asyncio.run(_load(base, concurrency, seconds, bare, cpu))
    ms = sorted(x * 1000 for x in latencies)
    requests = len(ms) * (1 if bare else 2)
    return {
        "n": len(ms),
        "per_s": len(ms) / elapsed,
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))],
        "cpu_ms": 1000 * cpu_seconds / requests,  # server CPU per HTTP request
    }


# --- Main -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see its output above")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small pools, short runs")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 4)))
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--rounds", type=int, default=5, help="API/bare rounds per concurrency")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000]
    seconds = 3.0 if args.quick else 10.0
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"

    base_url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    if not base_url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (the benchmark creates its own database)")
    name = f"cp_bench_assign_{os.getpid()}"
    url = _db_url(base_url, name)
    var_dir = tempfile.mkdtemp(prefix="cp-bench-assign-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COUNTERPOINT_VAR_DIR": var_dir,
        "CELERY_QUEUE": f"cp-bench-assign-{os.getpid()}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        # Database connections outlive the run (production: 60 s), so the server CPU
        # counted per window is not lost with backends that end mid-window.
        "CONN_MAX_AGE": "3600",
    }
    os.environ.update(env)
    _admin(base_url, f'CREATE DATABASE "{name}"')
    gunicorn = None
    try:
        python = sys.executable
        for command in (["migrate"], ["collectstatic", "--noinput"]):
            subprocess.run(
                [python, "manage.py", *command, "-v", "0"], cwd=ROOT, env=env, check=True
            )
        import django

        django.setup()
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_row (id bigserial PRIMARY KEY, payload text)")
        fixture = Fixture()
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = subprocess.Popen(
            [
                str(Path(python).with_name("gunicorn")),
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--access-logfile",
                "/dev/null",
                # Workers are not recycled mid-run: their CPU counters are the measure.
                "--max-requests",
                "0",
                "tests.benchmarks.bench_assignment:application",
            ],
            cwd=ROOT,
            env=env,
        )
        _wait_http(f"{base}/s/bench/", gunicorn)
        cpu = ServerCPU(gunicorn.pid, _db_url(base_url, "postgres"), name)
        print(
            f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), "
            f"PostgreSQL db {name}"
        )

        print("\np50 of a next+submit cycle as the pool grows (16 annotators)")
        print(f"{'stimuli':>10} {'grow s':>8} {'cycles/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        p50s = []
        for size in sizes:
            grow = fixture.grow(size)
            r = _measure(base, 16, seconds, cpu)
            p50s.append(r["p50"])
            print(f"{size:>10,} {grow:>8.1f} {r['per_s']:>9.1f} {r['p50']:>8.1f} {r['p99']:>8.1f}")
        print(f"p50 at {sizes[-1]:,} / p50 at {sizes[0]:,}: {p50s[-1] / p50s[0]:.2f}")

        one = _measure(base, 1, seconds, cpu)
        print(f"one annotator alone: p50 {one['p50']:.1f} ms, p99 {one['p99']:.1f} ms per cycle")

        print(
            f"\nthroughput on the {sizes[-1]:,}-stimulus pool: {args.rounds} rounds of API "
            "then bare insert, medians (this machine's speed drifts between runs, so each "
            "ratio compares runs made back to back)"
        )
        print(
            f"{'endpoint':>22} {'conc':>5} {'req/s':>8} {'cycles/s':>9} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'server CPU ms/req':>18}"
        )
        keys = ("per_s", "p50", "p99", "cpu_ms")
        for concurrency in (16, 64):
            rounds = [
                (
                    _measure(base, concurrency, seconds, cpu),
                    _measure(base, concurrency, seconds, cpu, bare=True),
                )
                for _ in range(args.rounds)
            ]
            api = {k: statistics.median(a[k] for a, _ in rounds) for k in keys}
            bare = {k: statistics.median(b[k] for _, b in rounds) for k in keys}
            ratios = sorted(2 * a["per_s"] / b["per_s"] for a, b in rounds)
            print(
                f"{'API next+submit':>22} {concurrency:>5} {2 * api['per_s']:>8.1f} "
                f"{api['per_s']:>9.1f} {api['p50']:>8.1f} {api['p99']:>8.1f} "
                f"{api['cpu_ms']:>18.2f}"
            )
            print(
                f"{'bare DRF insert':>22} {concurrency:>5} {bare['per_s']:>8.1f} "
                f"{'':>9} {bare['p50']:>8.1f} {bare['p99']:>8.1f} {bare['cpu_ms']:>18.2f}"
            )
            print(
                f"{'ratio (requests/s)':>22} {concurrency:>5} "
                f"{statistics.median(ratios):>8.2f}   (rounds: "
                + ", ".join(f"{r:.2f}" for r in ratios)
                + f"; cycles/s over bare inserts/s: {statistics.median(ratios) / 2:.2f}; "
                f"server CPU per request, bare over API: {bare['cpu_ms'] / api['cpu_ms']:.2f})"
            )
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import redis

        # The refresh tasks the labels enqueued: nobody consumes this queue.
        redis.Redis.from_url(redis_url).delete(env["CELERY_QUEUE"])
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
