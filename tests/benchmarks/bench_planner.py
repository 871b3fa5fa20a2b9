"""Benchmark: the planner's 1,000 simulated studies of 200 annotators x 20 labels.

    .venv/bin/python tests/benchmarks/bench_planner.py

One intervention and three (labels spread over them), on the shipped ``expertise``
population, label-weighted (CR2, Bell-McCaffrey) and annotator-weighted estimands: the
draws, the per-annotator sums and one ``row_effect`` per study and intervention. Prints
the wall time of each and the figures. The aim is under 10 s for 1,000 studies.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from simulation.planner import arm_parse, plan  # noqa: E402
from simulation.population_file import BUILTIN, population_load  # noqa: E402


def main() -> None:
    population = population_load(BUILTIN / "expertise.toml")
    for specs in (["length-longer"], ["length-longer", "markdown-add", "hedging-more"]):
        arms = [arm_parse(s, population) for s in specs]
        for weighting in ("label", "annotator"):
            start = time.perf_counter()
            result = plan(
                population, arms, annotators=[200], labels_per_annotator=[20],
                studies=1000, weighting=weighting, seed=1,
            )  # fmt: skip
            elapsed = time.perf_counter() - start
            print(f"{len(arms)} intervention(s), {weighting}-weighted: 1,000 studies of 200 x 20 "
                  f"in {elapsed:.2f} s")  # fmt: skip
            for c in result.cells:
                print(f"    {c.arm:<14} truth {c.truth:+.4f} power {c.power:.3f} "
                      f"CI width {c.ci_width:.4f} coverage {c.coverage:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
