"""Pairs per second of an HH-RLHF import into PostgreSQL, end to end.

The file: ``--file PATH`` (an HH-RLHF ``.jsonl`` or ``.jsonl.gz``, e.g. Anthropic's test
split) or, by default, a seeded HH-RLHF-shaped file of 2,321 rows (2,312 valid ones and
the 9 malformed rows of ``tests/hh_rlhf_shape.py``'s kinds, as many as the real test file
has), gzipped. It runs ``manage.py import_pairs FILE --format hh-rlhf --skip-invalid``
(read, decompress, parse, check every row, measure and check every pair, write prompts,
responses and stimuli) against a dedicated PostgreSQL database created here and dropped
at the end, and prints pairs/s and the ratio to the 2,000 pairs/s aim.

    .venv/bin/python tests/benchmarks/bench_imports.py [--rows 2321] [--repeat 3] [--file F]

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import cProfile
import gzip
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = f"cp_bench_imports_{os.getpid()}"
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ.setdefault("COUNTERPOINT_VAR_DIR", f"/tmp/{DB_NAME}")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["LOG_LEVEL"] = "WARNING"
AIM = 2000.0


def _admin(sql: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def _generated(rows: int, directory: Path) -> Path:
    from tests.hh_rlhf_shape import hh_lines

    # The 9 bad rows spread through the file, as in the real test split.
    bad_at = {1 + (k * rows) // 9: k % 7 for k in range(9)}
    path = directory / "hh_rlhf_bench.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(hh_lines(rows, bad_at, seed=2312)), mtime=0))
    return path


def _run(path: Path, n: int, profile: bool) -> tuple[float, float, int]:
    from django.core.management import call_command

    from interventions.models import Stimulus

    out = io.StringIO()
    args = [str(path), "--format", "hh-rlhf", "--skip-invalid", "--set", f"bench-{n}"]
    args += ["--source", f"bench-{n}", "--report", os.devnull]
    profiler = cProfile.Profile() if profile else None
    start, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    call_command("import_pairs", *args, stdout=out)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    pairs = Stimulus.objects.filter(stimulus_set__name=f"bench-{n}").count()
    assert f"imported {pairs} pairs" in out.getvalue(), out.getvalue()
    return elapsed, cpu, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2321)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, help="an HH-RLHF .jsonl(.gz) file to import")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of run 1")
    args = parser.parse_args()
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = args.file or _generated(args.rows, Path(tmp))
            print(f"file: {path.name if args.file else 'generated'}, {path.stat().st_size:,} bytes")
            print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
            rates = []
            for n in range(1, args.repeat + 1):
                elapsed, cpu, pairs = _run(path, n, args.profile and n == 1)
                rates.append(pairs / elapsed)
                print(
                    f"run {n}: {pairs:,} pairs in {elapsed:.2f} s = {rates[-1]:,.0f} pairs/s "
                    f"(this process's CPU: {cpu:.2f} s)"
                )
            median, best = statistics.median(rates), max(rates)
            print(
                f"median {median:,.0f} pairs/s ({median / AIM:.2f}x the {AIM:,.0f}/s aim), "
                f"best {best:,.0f} pairs/s ({best / AIM:.2f}x)"
            )
        connections.close_all()
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
