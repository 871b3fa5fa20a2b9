"""manage.py plan: power and interval width by simulation, before paying annotators."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from simulation.planner import Plan, arm_parse, plan
from simulation.population_file import PopulationError, population_load


def _sizes(text: str, what: str) -> list[int]:
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError as exc:
        raise CommandError(f"--{what} must be whole numbers separated by commas: {text!r}") from exc
    if not values:
        raise CommandError(f"--{what} needs at least one value")
    return values


def plan_table(result: Plan) -> str:
    header = (
        f"{'annotators':>10} {'labels/ann':>10} {'intervention':<18} {'truth':>7} "
        f"{'power':>6} {'CI width':>8} {'coverage':>8} {'labels':>7} {'hours':>7}"
    )
    lines = [header, "-" * len(header)]
    for c in result.cells:
        lines.append(
            f"{c.annotators:>10} {c.labels_per_annotator:>10} {c.arm:<18} {c.truth:>+7.3f} "
            f"{c.power:>6.3f} {c.ci_width:>8.3f} {c.coverage:>8.3f} {c.mean_labels:>7.0f} "
            f"{c.hours:>7.1f}"
        )
    best = result.recommend()
    if best is None:
        lines.append(
            f"No size in the grid reaches power {result.target_power:g} for every "
            "intervention: try more annotators or labels per annotator."
        )
    else:
        lines.append(
            f"Recommended: {best.annotators} annotators x {best.labels_per_annotator} labels "
            f"(fewest labels with power >= {result.target_power:g} for every intervention; "
            f"weakest {best.arm} at {best.power:.3f}), about {best.hours:.1f} labelling hours."
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Simulate many studies of a population (no server, no database) and print power, "
        "interval width and coverage for each study size, with a recommended size."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--population", required=True, help="Population TOML file.")
        parser.add_argument(
            "--intervention",
            action="append",
            default=[],
            help="e.g. length-longer, markdown-add, hedging-less or length:+1; repeat for "
            "several (default: each attribute of the population, increased).",
        )
        parser.add_argument("--annotators", default="50,100,200", help="e.g. 50,100,200")
        parser.add_argument("--labels", default="10,20", help="labels per annotator, e.g. 10,20")
        parser.add_argument("--studies", type=int, default=1000, help="simulated studies per size")
        parser.add_argument("--power", type=float, default=0.8, help="target power")
        parser.add_argument("--alpha", type=float, default=0.05)
        parser.add_argument("--estimand", choices=["label", "annotator"], default="label")
        parser.add_argument("--seed", type=int, default=None, help="default: the population's")

    def handle(self, *args, **options) -> None:
        try:
            population = population_load(options["population"])
            specs = options["intervention"] or [f"{a}:+1" for a in population.attributes]
            arms = [arm_parse(s, population) for s in specs]
            seed = options["seed"] if options["seed"] is not None else (population.seed or 0)
            result = plan(
                population,
                arms,
                annotators=_sizes(options["annotators"], "annotators"),
                labels_per_annotator=_sizes(options["labels"], "labels"),
                studies=options["studies"],
                alpha=options["alpha"],
                target_power=options["power"],
                weighting=options["estimand"],
                seed=seed,
            )
        except (PopulationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Population {population.name!r}, seed {seed}, {options['studies']} studies per "
            f"size, {options['estimand']}-weighted estimand, alpha {options['alpha']:g}"
        )
        self.stdout.write(plan_table(result))
