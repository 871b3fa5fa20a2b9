from pathlib import Path

from django.core.management.base import BaseCommand

from interventions.management.import_command import add_import_options, run_import
from interventions.services import prompts_import


class Command(BaseCommand):
    help = (
        "Import prompts and responses from JSONL ({prompt_id, prompt, responses, category}); "
        "gzipped files are read as they are."
    )

    def add_arguments(self, parser):
        add_import_options(parser)
        parser.add_argument("--source", help="source name to record (default: the file name)")

    def handle(self, *args, path: str, source: str | None, **options):
        run_import(
            self,
            path=path,
            report=options["report"],
            do_import=lambda lines: prompts_import(
                lines=lines,
                source=source or Path(path).name,
                skip_invalid=options["skip_invalid"],
            ),
            invalid_rows=lambda s: s.invalid_rows,
            describe=lambda s: f"imported {s.prompts} prompts and {s.responses} responses",
        )
