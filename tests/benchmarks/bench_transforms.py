"""Benchmark: every built-in rule transform on the gpt-4 answers of arena_prompts.jsonl.

For each catalogue intervention: stimuli per second (transform + measures + manipulation
check, one process, no database), pass rate over all answers and over the answers the
transform could change, the top rejection reasons, and a before/after table of mean
attribute measures over the passing pairs (the target moves, the rest stays put).

    .venv/bin/python tests/benchmarks/bench_transforms.py [--limit N] [--only NAME ...]
"""

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from interventions.catalogue import CATALOGUE, direction_sign  # noqa: E402
from interventions.checks import pair_check  # noqa: E402
from interventions.transforms import transform_run  # noqa: E402

ARENA = ROOT.parent / "shared" / "data" / "arena_prompts.jsonl"
DEMO = ROOT / "collection" / "demo" / "prompts.jsonl"
SHOWN = ("words", "markdown", "hedges", "flattery", "politeness", "numbers", "numeric_edits")


def answers(limit: int | None) -> list[str]:
    path = ARENA if ARENA.exists() else DEMO
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    texts = [r["responses"].get("gpt-4") or next(iter(r["responses"].values())) for r in rows]
    return texts[:limit] if limit else texts


def run(spec, texts: list[str]) -> dict:
    reasons: collections.Counter[str] = collections.Counter()
    before: collections.Counter[str] = collections.Counter()
    after: collections.Counter[str] = collections.Counter()
    passed = changed = 0
    start = time.perf_counter()
    for i, text in enumerate(texts):
        out, _ = transform_run(
            spec.transform, text, rng=np.random.default_rng(i), parameters=spec.parameters
        )
        check = pair_check(
            control=text,
            treated=out,
            measure=spec.check_measure,
            threshold=spec.check_threshold,
            direction=direction_sign(spec.parameters),
            tolerances=spec.tolerances,
        )
        changed += out != text
        if check.result.passed:
            passed += 1
            before.update({k: check.measures_control[k] for k in SHOWN})
            after.update({k: check.measures_treated[k] for k in SHOWN})
        else:
            reasons[check.result.reason.split(" moved ")[0].split(" changed ")[0]] += 1
    seconds = time.perf_counter() - start
    return {
        "name": spec.name,
        "seconds": seconds,
        "rate": len(texts) / seconds,
        "passed": passed,
        "changed": changed,
        "reasons": reasons,
        "before": {k: before[k] / max(passed, 1) for k in SHOWN},
        "after": {k: after[k] / max(passed, 1) for k in SHOWN},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    texts = answers(args.limit)
    print(f"{len(texts)} answers from {ARENA if ARENA.exists() else DEMO}\n")
    results = [run(s, texts) for s in CATALOGUE if not args.only or s.name in args.only]
    print("| intervention | stimuli/s | whole set (s) | pass rate | pass rate where changed |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        where = r["passed"] / r["changed"] if r["changed"] else float("nan")
        print(
            f"| {r['name']} | {r['rate']:.0f} | {r['seconds']:.2f} | "
            f"{r['passed'] / len(texts):.2f} | {where:.2f} ({r['changed']} changed) |"
        )
    print("\nTop rejection reasons:")
    for r in results:
        top = ", ".join(f"{k} ({n})" for k, n in r["reasons"].most_common(3)) or "none"
        print(f"  {r['name']}: {top}")
    print("\nMean measures of passing pairs, control -> treated:\n")
    print("| intervention | n | " + " | ".join(SHOWN) + " |")
    print("|---|---:|" + "---:|" * len(SHOWN))
    for r in results:
        cells = " | ".join(f"{r['before'][k]:.1f} -> {r['after'][k]:.1f}" for k in SHOWN)
        print(f"| {r['name']} | {r['passed']} | {cells} |")
    slowest = max(r["seconds"] for r in results)
    print(f"\nslowest whole set: {slowest:.2f} s (aim: under 10 s per rule transform)")


if __name__ == "__main__":
    main()
