"""Load benchmark: the labelling loop driven by wrk (a C load generator whose own cost is
small) against the production gunicorn config on PostgreSQL, with Redis, a Celery worker
and beat, all started here on their own ports (tests/faults/cluster.py).

    .venv/bin/python tests/benchmarks/bench_load.py [--seconds 60] [--annotators 64]

Annotators enter through the real pages first (Prolific-style links, consent,
questionnaire); then wrk runs one connection per annotator, each labelling as the page
does: POST next once, then POST label after label, each answer carrying the next pair.
Printed: labels/s, wrk's latency percentiles, the server-side p50/p99 of each endpoint
(gunicorn's access log), errors and connections closed without a response, the refresh
lag (newest label id minus the estimates' watermark) sampled every second during the load
and how long it took to reach 0 after, the CPU each label cost the web workers,
PostgreSQL and the refresh worker (from /proc) and the write-ahead log it cost (every row
and index entry PostgreSQL wrote, the refresh's included); then the same wrk on a bare
DRF one-row insert and the loop's requests/s as a share of it.

With ``--label-studio PYTHON`` (the python of a virtualenv with label-studio and gunicorn
installed; tests/benchmarks/label_studio.py says how), Label Studio is then served the
same way (same workers and threads, its own PostgreSQL, as many tasks as the study has
stimuli, with the same texts) and driven by the same wrk at the same concurrency: its
labelling loop (next task, then an annotation) and a stream of annotations alone, the most
labels it can take in; printed are its labels/s and the loop's labels/s as a multiple of
each.
"""

import argparse
import os
import re
import runpy
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.label_studio import LabelStudio  # noqa: E402
from tests.benchmarks.proc_cpu import TICK, cpu_ticks  # noqa: E402
from tests.faults.annotators import Annotator, Tally  # noqa: E402
from tests.faults.cluster import Deployment  # noqa: E402

SLUG = "bench"
WRK = ROOT / "tests" / "benchmarks" / "wrk"
ACCESS = re.compile(r'"POST (/api/studies/[^/]+/(next|labels)/) HTTP/1.1" (\d+) \S+ (\d+)ms')


def _enter(deployment: Deployment, n: int) -> Path:
    base = deployment.base_url(deployment.webs[0])
    rows = []
    for k in range(n):
        annotator = Annotator([base], SLUG, f"load-{k}", Tally(), k)
        annotator.enter(time.monotonic() + 60)
        cookie = "; ".join(f"{c.name}={c.value}" for c in annotator.http.cookies)
        rows.append(f"{cookie}\t{annotator.http.cookies.get('csrftoken')}")
    path = Path(tempfile.mkstemp(prefix="cp-load-", suffix=".tsv")[1])
    path.write_text("\n".join(rows) + "\n")
    return path


def _pool(deployment: Deployment, size: int) -> None:
    """The study ``SLUG`` of bench_assignment.py (three labels per stimulus, no
    questionnaire), its pool bulk-inserted to ``size`` stimuli: room for every label."""
    code = (
        "import django; django.setup();"
        "from tests.benchmarks.bench_assignment import Fixture;"
        f"Fixture().grow({size})"
    )
    subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=deployment.env(), check=True, timeout=600
    )


class CpuMeter:
    """CPU seconds used by the processes of each kind on this machine (from /proc): the
    web workers, PostgreSQL's processes, the Celery worker. Sampled every second, so a
    process that exits meanwhile (a database connection recycled after CONN_MAX_AGE)
    still counts what it used up to its last sample."""

    KINDS = ("gunicorn", "postgres", "celery worker")

    def __init__(self) -> None:
        self.first = {key: ticks for key, (_, ticks) in self._read().items()}
        self.last: dict[tuple[int, int], tuple[str, int]] = {}

    @classmethod
    def _read(cls) -> dict[tuple[int, int], tuple[str, int]]:
        seen = {}
        for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
            kind, read = cls._kind(pid), cpu_ticks(pid)
            if kind and read:
                seen[read[0]] = (kind, read[1])
        return seen

    @staticmethod
    def _kind(pid: int) -> str | None:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            return None
        if "gunicorn" in command:
            return "gunicorn"
        if command.startswith(("postgres", "/usr/lib/postgresql")):
            return "postgres"
        if "celery" in command and " worker" in command:
            return "celery worker"
        return None

    def sample(self) -> None:
        self.last.update(self._read())

    def per(self, n: float) -> str:
        """Milliseconds of each kind per unit of work (n units since the meter started)."""
        self.sample()
        used = dict.fromkeys(self.KINDS, 0.0)
        for key, (kind, ticks) in self.last.items():
            used[kind] += (ticks - self.first.get(key, 0)) / TICK
        return ", ".join(f"{k} {1000 * v / max(n, 1):.1f}" for k, v in used.items())


def _wrk(
    base: str, script: str, threads: int, seconds: float, env: dict, meter: CpuMeter | None = None
) -> dict:
    """Run wrk, sampling ``meter`` every second while it runs."""
    command = ["wrk", f"-t{threads}", f"-c{threads}", f"-d{int(seconds)}s", "--latency"]
    command += ["--timeout", "30s", "-s", str(WRK / script), base]
    run = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )
    while True:
        try:
            text = run.communicate(timeout=1.0)[0]
            break
        except subprocess.TimeoutExpired:
            if meter is not None:
                meter.sample()
    figures: dict = {"raw": text}
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    figures["rps"] = float(rate.group(1)) if rate else 0.0
    for pct in ("50", "99"):
        hit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", text)
        if hit:
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[hit.group(2)]
            figures[f"p{pct}_ms"] = float(hit.group(1)) * scale
    errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    figures["socket_errors"] = tuple(int(x) for x in errors.groups()) if errors else (0, 0, 0, 0)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    figures["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return figures


def _lag(deployment: Deployment) -> int:
    row = deployment.sql(
        "SELECT (SELECT coalesce(max(id), 0) FROM collection_label), "
        "(SELECT coalesce(max(watermark), 0) FROM analysis_refreshstate)"
    )[0]
    return int(row[0] - row[1])


def _labels(deployment: Deployment) -> int:
    return int(deployment.sql("SELECT count(*) FROM collection_label")[0][0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--annotators", type=int, default=64)
    parser.add_argument("--pool", type=int, default=20_000, help="stimuli in the study")
    parser.add_argument("--label-studio", metavar="PYTHON", help="compare with Label Studio")
    args = parser.parse_args()
    # The production settings as this environment makes them (WEB_CONCURRENCY and
    # GUNICORN_THREADS may change them); Label Studio gets the same.
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    workers, threads = str(conf["workers"]), str(conf["threads"])
    deployment = Deployment(
        wsgi="tests.benchmarks.bench_assignment:application",
        web_env={"WEB_CONCURRENCY": workers, "GUNICORN_THREADS": threads},
    )
    try:
        deployment.sql("CREATE TABLE bench_row (id bigserial PRIMARY KEY, payload text)")
        _pool(deployment, args.pool)
        annotators = _enter(deployment, args.annotators)
        web = deployment.webs[0]
        base = deployment.base_url(web)
        lags: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(1.0):
                lags.append(_lag(deployment))

        sampler = threading.Thread(target=sample, daemon=True)
        before, first_line = _labels(deployment), len(web.lines)
        wal = deployment.sql("SELECT pg_current_wal_lsn()::text")[0][0]
        meter = CpuMeter()
        sampler.start()
        env = {"ANNOTATORS": str(annotators), "THREADS": str(args.annotators), "SLUG": SLUG}
        started = time.monotonic()
        loop = _wrk(base, "label_loop.lua", args.annotators, args.seconds, env, meter)
        elapsed = time.monotonic() - started
        stop.set()
        stored = _labels(deployment) - before
        # Write-ahead log per label: every row and index entry written, the refresh's too.
        wal_bytes = float(
            deployment.sql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s::pg_lsn)", (wal,))[0][0]
        )
        cpu_loop = meter.per(stored)
        lines = web.lines[first_line:]
        caught_up = time.monotonic()
        while _lag(deployment) > 0 and time.monotonic() - caught_up < 120:
            time.sleep(0.2)
        catch_up = time.monotonic() - caught_up
        bare_meter = CpuMeter()
        bare = _wrk(
            base + "/bench/insert/",
            "bare_insert.lua",
            args.annotators,
            args.seconds / 2,
            {},
            bare_meter,
        )
        cpu_bare = bare_meter.per(bare["rps"] * args.seconds / 2)
        texts = deployment.sql(
            "SELECT p.text, c.text, t.text FROM interventions_stimulus s "
            "JOIN interventions_prompt p ON p.id = s.prompt_id "
            "JOIN interventions_response c ON c.id = s.control_id "
            "JOIN interventions_response t ON t.id = s.treated_id LIMIT 1"
        )[0]
    finally:
        deployment.close()
    rival = _label_studio(args, texts, workers, threads) if args.label_studio else {}
    per_route: dict[str, list[int]] = {"next": [], "labels": []}
    statuses: dict[str, int] = {}
    for line in lines:
        hit = ACCESS.search(line)
        if hit:
            per_route[hit.group(2)].append(int(hit.group(4)))
            statuses[hit.group(3)] = statuses.get(hit.group(3), 0) + 1
    print(
        f"\nlabelling loop: {args.annotators} annotators, {elapsed:.0f} s, "
        f"{workers} gunicorn workers x {threads} threads, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  labels stored        {stored} ({stored / elapsed:.0f} labels/s)")
    print(f"  requests/s (wrk)     {loop['rps']:.0f}")
    p50, p99 = loop.get("p50_ms", 0), loop.get("p99_ms", 0)
    print(f"  wrk latency          p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    for route, times in per_route.items():
        if times:
            q = statistics.quantiles(times, n=100)
            n = len(times)
            print(
                f"  server {route:<6}        p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms ({n} requests)"
            )
    print(f"  statuses             {statuses}; wrk non-2xx {loop['non_2xx']}")
    connect, read, write, timeout = loop["socket_errors"]
    print(
        f"  socket errors        connect {connect}, read {read}, write {write}, timeout {timeout}"
    )
    if lags:
        print(
            f"  refresh lag (labels) median {statistics.median(lags):.0f}, max {max(lags)} during "
            f"the load; 0 again {catch_up:.1f} s after it"
        )
    print(f"  CPU ms per label     {cpu_loop}")
    print(f"  WAL per label        {wal_bytes / max(stored, 1) / 1024:.1f} KiB")
    print(f"bare one-row insert:   {bare['rps']:.0f} requests/s")
    print(f"  CPU ms per request   {cpu_bare}")
    if bare["rps"]:
        print(f"loop / bare insert:    {loop['rps'] / bare['rps']:.2f}")
    for mode, figures in rival.items():
        rate = figures["labels_per_s"]
        print(
            f"Label Studio {mode:<12}{rate:.1f} labels/s (wrk p50 {figures.get('p50_ms', 0):.0f} "
            f"ms, p99 {figures.get('p99_ms', 0):.0f} ms, non-2xx {figures['non_2xx']}); "
            f"the loop's labels/s is {stored / elapsed / rate:.1f}x"
            if rate
            else f"Label Studio {mode}: no labels stored"
        )


def _label_studio(
    args: argparse.Namespace, texts: tuple, workers: str, threads: str
) -> dict[str, dict]:
    """Label Studio's labels/s under the same wrk: annotations alone, then its loop."""
    studio = LabelStudio(
        args.label_studio,
        annotators=args.annotators,
        texts=texts,
        tasks=args.pool,
        workers=workers,
        threads=threads,
    )
    figures: dict[str, dict] = {}
    try:
        tokens = studio.tokens_file()
        env = {"TOKENS": str(tokens), "PROJECT": str(studio.project)}
        env |= {"THREADS": str(args.annotators), "FIRST_TASK": str(studio.first_task)}
        for mode in ("annotations", "loop"):
            before = studio.annotations()
            started = time.monotonic()
            run = _wrk(
                studio.base,
                "label_studio.lua",
                args.annotators,
                args.seconds / 2,
                {**env, "MODE": mode},
            )
            run["labels_per_s"] = (studio.annotations() - before) / (time.monotonic() - started)
            figures[mode] = run
    finally:
        studio.close()
    return figures


if __name__ == "__main__":
    main()
