from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from interventions.imports import ImportFailed
from interventions.pair_imports import PAIR_FORMATS
from interventions.services import stimulus_pairs_import


class Command(BaseCommand):
    help = (
        "Import ready-made pairs as observational stimuli in a new stimulus set: researcher "
        "pairs (pairs-csv, pairs-jsonl), TRL preference rows (trl) or Anthropic HH-RLHF (hh-rlhf)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--format", required=True, choices=PAIR_FORMATS)
        parser.add_argument("--set", dest="set_name", help="stimulus set name (default: file name)")
        parser.add_argument("--source", help="source name to record (default: the file name)")
        parser.add_argument(
            "--intervention", default="", help="cell name for preference rows (default 'chosen')"
        )

    def handle(self, *args, path, format, set_name, source, intervention, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        with file.open("rb") as lines:
            try:
                summary = stimulus_pairs_import(
                    lines=lines,
                    format=format,
                    source=source or file.name,
                    stimulus_set_name=set_name or file.name,
                    intervention=intervention,
                )
            except ImportFailed as exc:
                raise CommandError("\n".join(["nothing was imported:", *exc.errors])) from exc
        self.stdout.write(
            f"imported {summary.stimuli} pairs into stimulus set '{summary.stimulus_set.name}' "
            f"({summary.rejected} failed their intervention's manipulation check)"
        )
