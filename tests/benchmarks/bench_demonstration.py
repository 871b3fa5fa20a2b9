"""Benchmark: the demonstration at full size, and how often its findings hold.

    .venv/bin/python tests/benchmarks/bench_demonstration.py [--seeds 10]

Times ``manage.py demonstrate`` (full size, seed 2026) part by part, then reruns the quick
size (the one CI asserts on) on held-back seeds 100, 101, ... that nobody tuned on, and
prints the share of seeds on which each qualitative finding holds: the naive
observational estimate biased beyond its interval, the randomised interval covering the
truth, the model trained on correlated pairs (rho 0.9) less accurate where the
correlation is reversed than the one trained on counterfactual pairs, its audited length
preference above the counterfactual model's (intervals apart), two latent classes found.
The demonstration was tuned on seeds 0-2.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from simulation import demonstration as demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    seeds = range(100, 100 + parser.parse_args().seeds)

    total = 0.0
    for name, run in (
        ("confounding", demo.confounding),
        ("tangled", demo.tangled),
        ("heterogeneity", demo.heterogeneity),
    ):
        start = time.perf_counter()
        run(demo.FULL, 2026)
        elapsed = time.perf_counter() - start
        total += elapsed
        print(f"full size, {name}: {elapsed:.1f} s")
    print(f"full size, all three parts: {total:.1f} s (aim: under 300 s)")

    held = {k: 0 for k in ("naive biased", "randomised covers", "ood lower", "audit larger",
                           "two classes")}  # fmt: skip
    start = time.perf_counter()
    for seed in seeds:
        c = demo.confounding(demo.QUICK, seed)
        held["naive biased"] += not (c.naive.ci_low <= c.truth <= c.naive.ci_high)
        held["randomised covers"] += c.randomised.ci_low <= c.truth <= c.randomised.ci_high
        rows = {r.training: r for r in demo.tangled(demo.QUICK, seed)}
        rho, cf = rows["rho = 0.9"], rows["counterfactual (crossed)"]
        held["ood lower"] += rho.reversed < cf.reversed
        held["audit larger"] += rho.length_preference.ci_low > cf.length_preference.ci_high
        held["two classes"] += demo.heterogeneity(demo.QUICK, seed).classes == 2
    n = len(seeds)
    print(f"quick size on held-back seeds {seeds.start}-{seeds.stop - 1} "
          f"({time.perf_counter() - start:.0f} s):")  # fmt: skip
    for finding, count in held.items():
        print(f"    {finding:<18} {count}/{n}")


if __name__ == "__main__":
    main()
