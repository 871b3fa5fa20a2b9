"""manage.py simulate: simulated annotators label a running study over HTTP."""

import secrets

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collection.models import Study
from simulation.driver import Outcome, simulate
from simulation.population_file import PopulationError, population_load
from simulation.services import simulation_run_create


class Command(BaseCommand):
    help = (
        "Run simulated annotators from a population file against a running server, through "
        "the same pages and API as browsers (a rehearsal of the study), and record the "
        "effects they plant beside the study."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", help="The study's slug.")
        parser.add_argument("--population", required=True, help="Population TOML file.")
        parser.add_argument("--annotators", type=int, required=True)
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--seed", type=int, default=None, help="default: the population's")
        parser.add_argument("--concurrency", type=int, default=8, help="annotators at a time")
        parser.add_argument(
            "--pace",
            type=float,
            default=0.0,
            help="wait this fraction of each label's drawn time (0: no waiting, 1: real time)",
        )

    def handle(self, *args, **options) -> None:
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"no study with slug {options['study']!r}")
        if study.status != Study.Status.RUNNING:
            raise CommandError(f"study {study.slug!r} is {study.status}: launch it first")
        if options["annotators"] < 1:
            raise CommandError("--annotators must be at least 1")
        try:
            population = population_load(options["population"])
        except PopulationError as exc:
            raise CommandError(str(exc)) from exc
        seed = options["seed"] if options["seed"] is not None else (population.seed or 0)
        questions = study.covariate_schema.questions if study.covariate_schema else []
        try:
            run = simulation_run_create(
                study=study,
                population=population,
                seed=seed,
                annotators=options["annotators"],
                base_url=options["base_url"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for p in run.planted.select_related("intervention").order_by("intervention__name"):
            self.stdout.write(f"planted {p.intervention.name}: {p.effect:+.4f} ({p.pairs} pairs)")

        def progress(outcome: Outcome) -> None:
            if outcome.ended.startswith("error"):
                self.stderr.write(f"annotator {outcome.index}: {outcome.ended}")

        try:
            report = simulate(
                base_url=options["base_url"],
                slug=study.slug,
                population=population,
                annotators=options["annotators"],
                questions=questions,
                seed=seed,
                run_key=f"{run.pk}-{secrets.token_hex(3)}",
                concurrency=options["concurrency"],
                pace=options["pace"],
                progress=progress,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        counts = report.counts()
        self.stdout.write(
            f"{len(report.outcomes)} annotators gave {report.labels} labels: "
            + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
            + f". Truth against estimate: /simulation/{study.slug}/"
        )
        if counts.get("error"):
            raise CommandError(f"{counts['error']} simulated annotators stopped on an error")
