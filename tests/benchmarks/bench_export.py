"""Export throughput and peak memory at 200,000 and 1,000,000 labels, JSONL and Parquet.

A dedicated PostgreSQL database (created here, dropped at the end) gets two studies over
200 imported pairs (prompts of ~200 characters, answers of ~800), with annotators,
enrollments, covariates, assignments and labels written by COPY (the API would take
hours; the export reads only what is stored). Each export then runs in a fresh
subprocess, so its peak resident memory (VmHWM of /proc/self/status) is the export's
alone, and the baseline (Django, pyarrow and the connection loaded, before the first
row) is printed beside it; pandas, which only the development install has, is kept
out as in production. Memory that does not grow from 200,000 to 1,000,000 labels is the
point. Each export runs --rounds times: the median round is shown, the peak of all.

    .venv/bin/python tests/benchmarks/bench_export.py [--sizes 200000 1000000]
        [--format trl] [--rounds 3]

Environment: BENCH_PG (default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import importlib.abc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_EXPORT_DB", f"cp_bench_export_{os.getpid()}")
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ.setdefault("COUNTERPOINT_VAR_DIR", f"/tmp/{DB_NAME}")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["LOG_LEVEL"] = "WARNING"

PAIRS = 200
LABELS_PER_ANNOTATOR = 50
WORDS = [
    "the",
    "model",
    "answer",
    "explains",
    "how",
    "a",
    "step",
    "works",
    "and",
    "why",
    "it",
    "matters",
    "here",
]


def _text(i: int, chars: int) -> str:
    words, n = [], 0
    while n < chars:
        w = WORDS[(i * 7 + len(words)) % len(WORDS)]
        words.append(w)
        n += len(w) + 1
    return f"[{i}] " + " ".join(words)


def _admin(sql: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        conn.execute(sql)


def _copy(cursor, table: str, columns: str, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(row) + "\n")
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


# Every assignment and label has its own instant, as in a real study (a timestamp
# column is written per row; constant ones would be encoded once).
_START = datetime(2026, 1, 1, tzinfo=UTC)


def _served(i: int) -> str:
    return (_START + timedelta(microseconds=i * 700_123)).isoformat()


def _labelled(i: int) -> str:
    return (_START + timedelta(microseconds=i * 700_123 + 1000 * (1000 + i % 9000))).isoformat()


def _seed(labels: int, stimulus_set, schema, tag: str) -> int:
    """A study of ``labels`` labels, every table filled by COPY; returns its id."""
    from django.db import connection

    from annotators.models import Annotator
    from collection.models import Assignment, Enrollment, Label
    from interventions.models import Stimulus
    from tests.factories import study_make

    study = study_make(stimulus_set=stimulus_set, schema=schema, slug=f"bench-{tag}")
    stimuli = list(Stimulus.objects.filter(stimulus_set=stimulus_set).values_list("pk", "cell"))
    annotators = -(-labels // LABELS_PER_ANNOTATOR)
    now = "2026-01-01 00:00:00+00"
    with connection.cursor() as c:
        raw = c.cursor
        _copy(
            raw,
            "annotators_annotator",
            "code, recruitment, created_at",
            ((f"{tag}-{a:07d}", "open", now) for a in range(annotators)),
        )
        first_annotator = Annotator.objects.get(code=f"{tag}-0000000").pk
        _copy(
            raw,
            "annotators_covariateresponse",
            "answers, created_at, annotator_id, schema_id",
            (
                (
                    json.dumps({"expertise": ("novice", "expert")[a % 2], "age": 20 + a % 50}),
                    now,
                    str(first_annotator + a),
                    str(schema.pk),
                )
                for a in range(annotators)
            ),
        )
        _copy(
            raw,
            "collection_enrollment",
            "prolific_study_id, prolific_session_id, consented_at, created_at, annotator_id, "
            "study_id, labels_done",
            (
                ("", "", now, now, str(first_annotator + a), str(study.pk), "0")
                for a in range(annotators)
            ),
        )
        first_enrollment = Enrollment.objects.filter(study=study).order_by("pk").first().pk

        def assignments():
            for i in range(labels):
                a, seq = divmod(i, LABELS_PER_ANNOTATOR)
                pk, cell = stimuli[(a + seq) % len(stimuli)]
                yield (
                    str(seq), "t" if i % 2 else "f", "0.02", "0.5", "0.01", "complete", "1",
                    "", f"5:{a}:{seq}", _served(i), now, str(first_annotator + a), str(pk),
                    str(first_enrollment + a), str(study.pk), cell, "f", "bernoulli", "labelled",
                )  # fmt: skip

        _copy(
            raw,
            "collection_assignment",
            "sequence, treated_on_left, p_stimulus, p_order, propensity, design_name, "
            "design_version, stratum, rng_key, served_at, expires_at, annotator_id, "
            "stimulus_id, enrollment_id, study_id, cell, is_attention_check, order_scheme, "
            "state",
            assignments(),
        )
        first_assignment = Assignment.objects.filter(study=study).order_by("pk").first().pk
        choices = ("left", "right", "left", "tie", "right")
        _copy(
            raw,
            "collection_label",
            "choice, strength, rationale, time_on_task_ms, submission_id, outcome, created_at, "
            "assignment_id, study_id",
            (
                (
                    choices[i % 5],
                    str(1 + i % 3),
                    # One label in seven explains itself, with what JSON must escape.
                    "" if i % 7 else f'"A" is clearer\\nsee step {i % 40}',
                    str(1000 + i % 9000),
                    str(uuid.uuid4()),
                    "0.5" if choices[i % 5] == "tie" else str(float(i % 2)),
                    _labelled(i),
                    str(first_assignment + i),
                    str(study.pk),
                )  # fmt: skip
                for i in range(labels)
            ),
        )
        raw.execute("ANALYZE")
    assert Label.objects.filter(study=study).count() == labels
    return study.pk


def _setup(sizes: list[int]) -> dict[int, int]:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from annotators.models import CovariateSchema
    from interventions.models import StimulusSet
    from interventions.services import stimulus_pairs_import

    rows = [
        json.dumps(
            {
                "prompt_id": f"p{i}",
                "prompt": _text(i, 200),
                "control": _text(i + 1, 800),
                "treated": _text(i + 2, 850),
                "intervention": "probe",
            }
        )
        for i in range(PAIRS)
    ]
    stimulus_pairs_import(lines=rows, format="pairs-jsonl", source="bench", stimulus_set_name="b")
    stimulus_set = StimulusSet.objects.get(name="b")
    schema = CovariateSchema.objects.create(
        name="bench",
        questions=[
            {"key": "expertise", "label": "E", "type": "choice", "choices": ["novice", "expert"]},
            {"key": "age", "label": "Age", "type": "number"},
        ],
    )
    out = {}
    for n in sorted(sizes):
        start = time.perf_counter()
        out[n] = _seed(n, stimulus_set, schema, f"s{n}")
        print(f"seeded {n:,} labels by COPY in {time.perf_counter() - start:.1f} s", flush=True)
    return out


def _peak_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux carries it across
    exec from the forking parent, which holds the seeding's buffers."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError("not in a production install", name=name)
        return None


def _child(study_id: int, fmt: str, file_format: str) -> None:
    """One export in this process; prints a JSON line of figures."""
    # Measured as a production worker runs: its install (requirements.lock) has no
    # pandas, the development one does (for statsmodels and datasets), and pyarrow
    # imports pandas whenever it can, some 40 MB the export never uses.
    sys.meta_path.insert(0, _NoPandas())
    import django

    django.setup()
    from django.db import connection

    from collection.exports.services import export_write
    from collection.models import Study

    study = Study.objects.get(pk=study_id)
    connection.ensure_connection()
    baseline = _peak_mb()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        written = export_write(
            study=study,
            format=fmt,
            file_format=file_format,
            options={},
            out=Path(tmp) / "bench.zip",
        )
        seconds = time.perf_counter() - start
        size = (Path(tmp) / "bench.zip").stat().st_size
    peak = _peak_mb()
    labels = written.counts["exported"]
    print(
        json.dumps(
            {
                "labels": labels,
                "rows": written.rows,
                "seconds": seconds,
                "baseline_mb": baseline,
                "peak_mb": peak,
                "zip_mb": size / 2**20,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--format", default="trl")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(int(args.child[0]), args.child[1], args.child[2])
        return
    _admin(f"DROP DATABASE IF EXISTS {DB_NAME}")
    _admin(f"CREATE DATABASE {DB_NAME}")
    try:
        studies = _setup(args.sizes)
        from django.db import connections

        connections.close_all()
        # Settled as a live database is: otherwise autovacuum works through the fresh
        # rows while the exports run.
        _admin("VACUUM (ANALYZE)", DB_NAME)
        print(f"load average before the exports: {os.getloadavg()}")
        print(f"\n{'labels':>10} {'file':>8} {'rows':>10} {'s':>7} {'rows/s':>9} "
              f"{'rows/s of rounds':>20} {'base MB':>8} {'peak MB':>8} {'zip MB':>7}")  # fmt: skip
        for study_id in studies.values():
            for file_format in ("jsonl", "parquet"):
                env = {**os.environ, "BENCH_EXPORT_DB": DB_NAME}
                command = [sys.executable, __file__, "--child", str(study_id), args.format]
                rounds = []
                for _ in range(args.rounds):
                    out = subprocess.run(
                        command + [file_format], env=env, capture_output=True, text=True, check=True
                    )
                    rounds.append(json.loads(out.stdout.strip().splitlines()[-1]))
                # The median round by time; the peak is the highest of all rounds.
                r = sorted(rounds, key=lambda x: x["seconds"])[len(rounds) // 2]
                each = "/".join(f"{x['rows'] / x['seconds'] / 1000:.0f}k" for x in rounds)
                print(
                    f"{r['labels']:>10,} {file_format:>8} {r['rows']:>10,} {r['seconds']:>7.1f} "
                    f"{r['rows'] / r['seconds']:>9,.0f} {each:>20} {r['baseline_mb']:>8.0f} "
                    f"{max(x['peak_mb'] for x in rounds):>8.0f} {r['zip_mb']:>7.1f}",
                    flush=True,
                )
    finally:
        from django.db import connections

        connections.close_all()
        _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
