"""Print the demonstration's three tables (simulation.demonstration)."""

import time

from django.core.management.base import BaseCommand

from simulation import demonstration as demo


class Command(BaseCommand):
    help = (
        "Show on simulated data why randomised, counterfactual collection beats the usual "
        "way: confounding, tangled factors (with a reward-model audit), hidden heterogeneity."
    )

    def add_arguments(self, parser):
        parser.add_argument("--quick", action="store_true", help="The smaller version CI runs.")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--part", type=int, choices=[1, 2, 3], action="append",
            help="Only this part (repeat for several); default: all three.",
        )  # fmt: skip

    def handle(self, *args, quick: bool, seed: int, part: list[int] | None, **options):
        size = demo.QUICK if quick else demo.FULL
        chosen = set(part or [1, 2, 3])
        for part_index, title in enumerate(demo.PARTS):
            if part_index + 1 not in chosen:
                continue
            start = time.perf_counter()
            table = demo.part_table(part_index, size, seed)
            self.stdout.write(f"\n## {title}\n\n{table}\n")
            self.stdout.write(f"({time.perf_counter() - start:.1f} s, seed {seed})\n")
