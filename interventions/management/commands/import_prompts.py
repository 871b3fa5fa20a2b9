from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from interventions.imports import ImportFailed
from interventions.services import prompts_import


class Command(BaseCommand):
    help = "Import prompts and responses from JSONL ({prompt_id, prompt, responses, category})."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--source", help="source name to record (default: the file name)")

    def handle(self, *args, path: str, source: str | None, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{path}: no such file")
        with file.open("rb") as lines:
            try:
                summary = prompts_import(lines=lines, source=source or file.name)
            except ImportFailed as exc:
                raise CommandError("\n".join(["nothing was imported:", *exc.errors])) from exc
        self.stdout.write(f"imported {summary.prompts} prompts and {summary.responses} responses")
