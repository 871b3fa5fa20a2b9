"""Benchmark: drawing the results page's figures (what a page view after a refresh costs
before the cache holds them).

    .venv/bin/python tests/benchmarks/bench_figures.py

A large study: 9 interventions, 200 refresh snapshots each (convergence), 2 questions of
3 answers (subgroups), 2,000 annotators and 20,000 labels (quality, recruitment). Prints
the median of 5 draws per figure and format, and the bytes written.
"""

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from analysis import plots  # noqa: E402

NAMES = [f"intervention-{k}" for k in range(9)]


def figures(rng: np.random.Generator) -> dict[str, object]:
    def interval(name: str) -> plots.Interval:
        p = rng.normal(0, 0.1)
        return plots.Interval(name, p, p - 0.05, p + 0.05, p - 0.08, p + 0.08)

    series = {
        n: [
            plots.Point(10 * t, 0.1 + rng.normal(0, 1 / np.sqrt(t)) / 10, -0.1, 0.3, -0.2, 0.4)
            for t in range(1, 201)
        ]
        for n in NAMES
    }
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "forest": lambda: plots.forest_figure(rows=[interval(n) for n in NAMES]),
        "convergence": lambda: plots.convergence_figure(series=series),
        "subgroups": lambda: plots.subgroup_figure(
            questions={
                q: [interval(f"{n}: level {k}") for n in NAMES[:3] for k in range(3)]
                for q in ("expertise", "age")
            }
        ),
        "position": lambda: plots.position_figure(rows=[interval(n) for n in NAMES]),
        "agreement": lambda: plots.agreement_figure(alphas={n: rng.uniform(0, 0.6) for n in NAMES}),
        "quality": lambda: plots.quality_figure(
            labels_per_annotator=list(rng.integers(1, 11, 2000)),
            check_shares=list(rng.uniform(0, 1, 2000)),
        ),
        "recruitment": lambda: plots.recruitment_figure(
            joined=[start + timedelta(seconds=5 * k) for k in range(2000)],
            labelled=[start + timedelta(seconds=0.5 * k) for k in range(20000)],
            label_target=25000,
            annotator_target=2500,
        ),
    }


def main() -> None:
    rng = np.random.default_rng(0)
    total = 0.0
    for name, make in figures(rng).items():
        for fmt in ("svg", "png"):
            times, size = [], 0
            for _ in range(5):
                t0 = time.perf_counter()
                size = len(plots.figure_bytes(make(), fmt))
                times.append(time.perf_counter() - t0)
            median = statistics.median(times)
            total += median
            print(f"{name:12s} {fmt}: {1000 * median:7.1f} ms  {size / 1024:7.1f} KiB")
    print(f"all figures, both formats: {1000 * total:.0f} ms")


if __name__ == "__main__":
    main()
