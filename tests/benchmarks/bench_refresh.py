"""Time from label commit to an updated estimate, at a sustained label rate.

Real components: a dedicated PostgreSQL database (created here, dropped at the end), Redis
as the broker and for the refresh lock, and a Celery worker process. Submitter processes
commit labels through ``label_submit`` on a fixed schedule (default 100 per second for
20 seconds) for assignments served beforehand, one per annotator (so the number of
annotators, which a refresh's cost grows with, rises to one per label: the worst case);
each commit enqueues ``analysis.refresh_study`` as in production. The
latency of a label is the time from its commit until the first refresh that covers it
finished storing a snapshot (RefreshRun.finished_at, same machine clock).

    .venv/bin/python tests/benchmarks/bench_refresh.py [--rate 100] [--seconds 30]

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432), REDIS_URL (default
redis://127.0.0.1:6379/6).
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = f"cp_bench_refresh_{os.getpid()}"
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
os.environ["CELERY_QUEUE"] = f"bench-refresh-{os.getpid()}"
os.environ.setdefault("COUNTERPOINT_VAR_DIR", f"/tmp/{DB_NAME}")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["LOG_LEVEL"] = "WARNING"


def _admin(sql: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _worker(concurrency: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING"]
    command += ["--without-gossip", "--without-mingle", f"--concurrency={concurrency}"]
    command += ["-n", f"bench-{os.getpid()}@%h"]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "CONN_MAX_AGE": "60"})


def _seed(annotators: int):
    """A study and one served assignment per annotator: serving pairs is the assignment
    engine's cost (bench it there), so it happens before the clock starts."""
    from collection.services import assignment_next
    from tests.factories import enrollment_make, stimulus_set_make, study_make

    stimulus_set = stimulus_set_make(prompts=30, directions=("longer", "shorter"))
    study = study_make(
        stimulus_set=stimulus_set, replication_factor=annotators, labels_per_annotator=1
    )
    served = []
    for _ in range(annotators):
        enrollment = enrollment_make(study)
        served.append((enrollment.pk, assignment_next(enrollment_id=enrollment.pk).assignment))
    return study, served


def _submit(served, slots, results, rng_seed: int) -> None:
    """One submitting process: commit its labels at their scheduled times."""
    from django.db import connections

    from collection.services import label_submit

    connections.close_all()  # never share the parent's connection after fork
    rng = np.random.default_rng(rng_seed)
    out = []
    for (enrollment_id, assignment), slot in zip(served, slots, strict=True):
        time.sleep(max(0.0, slot - time.time()))
        treated_wins = rng.random() < 0.65
        result = label_submit(
            enrollment_id=enrollment_id,
            assignment_id=assignment.pk,
            submission_id=uuid.uuid4(),
            choice="left" if treated_wins == assignment.treated_on_left else "right",
            strength=2,
        )
        out.append((result.label.pk, time.time(), slot))
    results.put(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0, help="labels per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=8, help="submitting processes")
    parser.add_argument("--concurrency", type=int, default=1, help="worker processes")
    args = parser.parse_args()
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    worker = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        total = int(args.rate * args.seconds)
        study, served = _seed(total)
        worker = _worker(args.concurrency)
        time.sleep(4)  # let the worker connect
        _run(args, study, served, total)
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        from django.db import connections

        connections.close_all()
        _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _run(args, study, served, total: int) -> None:
    from django.db import connections

    from analysis.models import RefreshRun, RefreshState

    connections.close_all()
    start = time.time() + 2.0
    slots = [start + i / args.rate for i in range(total)]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(
            target=_submit,
            args=(served[k :: args.processes], slots[k :: args.processes], results, k),
        )
        for k in range(args.processes)
    ]
    for process in processes:
        process.start()
    committed: list[tuple[int, float, float]] = []
    for _ in processes:
        committed += results.get()
    for process in processes:
        process.join()
    elapsed = max(t for _, t, _ in committed) - start
    newest = max(pk for pk, _, _ in committed)
    deadline = time.time() + 60
    while not RefreshState.objects.filter(
        study=study, watermark__gte=newest, pending_ids=[]
    ).exists():
        if time.time() > deadline:
            raise SystemExit("the worker did not cover the last label within 60 s")
        time.sleep(0.1)
    runs = list(
        RefreshRun.objects.filter(study=study, snapshots__gt=0)
        .order_by("finished_at")
        .values_list("watermark_to", "finished_at")
    )
    done = np.array([f.timestamp() for _, f in runs])
    marks = np.array([w for w, _ in runs])
    latencies = []
    for pk, at, _ in committed:
        # The first snapshot that covers the label and finished after it was committed.
        ok = np.nonzero((marks >= pk) & (done >= at))[0]
        if ok.size:
            latencies.append(done[ok[0]] - at)
    lag = np.array([at - slot for _, at, slot in committed])
    lat = np.array(latencies)
    n_runs = RefreshRun.objects.filter(study=study).count()
    spans = [
        (f - s).total_seconds()
        for s, f in RefreshRun.objects.filter(study=study).values_list("started_at", "finished_at")
    ]
    p95 = float(np.percentile(lat, 95))
    print(
        f"labels committed          {len(committed)} in {elapsed:.1f} s "
        f"({len(committed) / elapsed:.1f}/s; target {args.rate:.0f}/s)"
    )
    print(f"submit lag behind schedule p95 {np.percentile(lag, 95) * 1000:.0f} ms")
    print(
        f"annotators                {len(served)} (one label each); worker processes "
        f"{args.concurrency}; submitting processes {args.processes}"
    )
    print(f"refreshes                 {n_runs} ({len(committed) / n_runs:.1f} labels per refresh)")
    print(
        f"refresh duration          mean {np.mean(spans) * 1000:.0f} ms, "
        f"p95 {np.percentile(spans, 95) * 1000:.0f} ms (the last with {len(served)} annotators: "
        f"{spans[-1] * 1000:.0f} ms)"
    )
    print(f"labels with a latency     {lat.size} of {len(committed)}")
    print(
        f"commit -> estimate        p50 {np.percentile(lat, 50) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {lat.max() * 1000:.0f} ms"
    )
    print(f"p95 / 2 s target          {p95 / 2.0:.2f}  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
