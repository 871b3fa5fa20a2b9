from pathlib import Path

from django.core.management.base import BaseCommand

from interventions.management.import_command import add_import_options, run_import
from interventions.pair_imports import PAIR_FORMATS
from interventions.services import stimulus_pairs_import


class Command(BaseCommand):
    help = (
        "Import ready-made pairs as observational stimuli in a new stimulus set: researcher "
        "pairs (pairs-csv, pairs-jsonl), TRL preference rows (trl) or Anthropic HH-RLHF "
        "(hh-rlhf). Gzipped files are read as they are."
    )

    def add_arguments(self, parser):
        add_import_options(parser)
        parser.add_argument("--format", required=True, choices=PAIR_FORMATS)
        parser.add_argument("--set", dest="set_name", help="stimulus set name (default: file name)")
        parser.add_argument("--source", help="source name to record (default: the file name)")
        parser.add_argument(
            "--intervention", default="", help="cell name for preference rows (default 'chosen')"
        )

    def handle(self, *args, path, format, set_name, source, intervention, **options):
        name = Path(path).name
        run_import(
            self,
            path=path,
            report=options["report"],
            do_import=lambda lines: stimulus_pairs_import(
                lines=lines,
                format=format,
                source=source or name,
                stimulus_set_name=set_name or name,
                intervention=intervention,
                skip_invalid=options["skip_invalid"],
            ),
            invalid_rows=lambda s: s.invalid_rows,
            describe=lambda s: (
                f"imported {s.stimuli} pairs into stimulus set '{s.stimulus_set.name}' "
                f"({s.rejected} failed their intervention's manipulation check)"
            ),
        )
