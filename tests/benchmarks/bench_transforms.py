"""Benchmark: every built-in rule transform on the answers of all five models in
../shared/data/arena_prompts.jsonl, on the half the transforms were tuned on and on the
held-back half (tests/benchmarks/arena_split.py); report the held-back figures.

For each catalogue intervention and half: stimuli per second (transform + measures +
manipulation check, one process, no database), pass rate over all answers and over the
answers the transform could change, overall and per model, the rejections by reason, and
a before/after table of mean attribute measures over the passing gpt-4 pairs.

    .venv/bin/python tests/benchmarks/bench_transforms.py [--half measure] [--only NAME ...]
"""

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from interventions.catalogue import CATALOGUE, direction_sign  # noqa: E402
from interventions.checks import pair_check  # noqa: E402
from interventions.measures import measure_all  # noqa: E402
from interventions.transforms import transform_run  # noqa: E402
from tests.benchmarks.arena_split import ARENA, Half, arena_rows  # noqa: E402

MODELS = ("gpt-4", "claude-v1", "gpt-3.5-turbo", "Llama-2-70b-chat", "vicuna-13b-v1.5")
SHOWN = ("words", "markdown", "hedges", "flattery", "politeness", "numbers", "numeric_edits")


def answers(half: Half, limit: int | None) -> dict[str, list[str]]:
    """Each model's answers in one half of the corpus (tests/benchmarks/arena_split.py)."""
    rows = arena_rows(half)[:limit] if limit else arena_rows(half)
    return {m: [r["responses"][m] for r in rows if r["responses"].get(m)] for m in MODELS}


def reason_kind(reason: str) -> str:
    """A rejection reason without its particulars: "meaning: negation removed", "words"."""
    if reason.startswith("meaning:"):
        return reason.split(" (")[0]
    return reason.split(" moved ")[0].split(" changed ")[0]


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
            reasons[reason_kind(check.result.reason)] += 1
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


def _where(r: dict) -> str:
    return f"{r['passed'] / r['changed']:.2f}" if r["changed"] else "-"


def describe(by_model: dict[str, list[str]]) -> str:
    """What the half's answers are like: how the two halves differ."""
    texts = [t for ts in by_model.values() for t in ts]
    measured = [measure_all(t) for t in texts]
    share = lambda key: sum(m[key] > 0 for m in measured) / len(measured)  # noqa: E731
    words = sorted(m["words"] for m in measured)
    return (
        f"median {words[len(words) // 2]} words; with code blocks {share('code_blocks'):.2f}, "
        f"lists {share('list_items'):.2f}, headers {share('headers'):.2f}, hedges "
        f"{share('hedges'):.2f}, flattery {share('flattery'):.2f}, courtesy "
        f"{share('politeness'):.2f} (share of answers)"
    )


def report(half: Half, by_model: dict[str, list[str]], only: list[str] | None) -> None:
    n = sum(len(t) for t in by_model.values())
    print(f"\n## {half} half: {n} answers of {len(by_model)} models from {ARENA.name}\n")
    print(describe(by_model) + "\n")
    print("| intervention | stimuli/s | pass rate | where changed | " + " | ".join(MODELS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(MODELS))
    pooled = []
    for spec in CATALOGUE:
        if only and spec.name not in only:
            continue
        per = {m: run(spec, texts) for m, texts in by_model.items()}
        total = {
            "name": spec.name,
            "passed": sum(r["passed"] for r in per.values()),
            "changed": sum(r["changed"] for r in per.values()),
            "seconds": sum(r["seconds"] for r in per.values()),
            "reasons": sum((r["reasons"] for r in per.values()), collections.Counter()),
            "per": per,
        }
        pooled.append(total)
        cells = " | ".join(
            f"{r['passed'] / len(by_model[m]):.2f} / {_where(r)}" for m, r in per.items()
        )
        print(
            f"| {spec.name} | {n / total['seconds']:.0f} | {total['passed'] / n:.2f} | "
            f"{_where(total)} ({total['changed']} changed) | {cells} |"
        )
    print("\nPer model: pass rate / pass rate where changed.")
    print("\nRejections by reason, all models and then per model:")
    for r in pooled:
        top = ", ".join(f"{k} ({c})" for k, c in r["reasons"].most_common(6)) or "none"
        print(f"  {r['name']}: {top}")
        for model, m in r["per"].items():
            top = ", ".join(f"{k} ({c})" for k, c in m["reasons"].most_common(4)) or "none"
            print(f"    {model}: {top}")
    print("\nMean measures of passing gpt-4 pairs, control -> treated:\n")
    print("| intervention | n | " + " | ".join(SHOWN) + " |")
    print("|---|---:|" + "---:|" * len(SHOWN))
    for r in pooled:
        g = r["per"]["gpt-4"]
        cells = " | ".join(f"{g['before'][k]:.1f} -> {g['after'][k]:.1f}" for k in SHOWN)
        print(f"| {r['name']} | {g['passed']} | {cells} |")
    slowest = max(r["seconds"] / n * len(by_model["gpt-4"]) for r in pooled)
    print(f"\nslowest transform on the half's gpt-4 answers: {slowest:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="prompts per half")
    parser.add_argument("--only", nargs="*", default=None, help="intervention names")
    parser.add_argument("--half", choices=("tune", "measure", "both"), default="both")
    args = parser.parse_args()
    halves: list[Half] = ["tune", "measure"] if args.half == "both" else [args.half]
    for half in halves:
        report(half, answers(half, args.limit), args.only)


if __name__ == "__main__":
    main()
