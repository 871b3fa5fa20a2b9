import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collection.codebook import codebook as columns
from collection.codebook import pretest_codebook
from collection.export import dataset_jsonl
from collection.models import Study


class Command(BaseCommand):
    help = (
        "Write a study's labels as TRL preference JSONL (prompt/chosen/rejected + metadata), "
        "or a pretest's answers."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--out", help="output file (default: standard output)")
        parser.add_argument(
            "--codebook", help="also write the codebook (column -> meaning) as JSON here"
        )

    def handle(self, *args, study: str, out: str | None, codebook: str | None, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"no study with slug '{study}'; see the studies in the admin")
        stream = open(out, "w", encoding="utf-8") if out else sys.stdout  # noqa: SIM115
        try:
            rows = 0
            for line in dataset_jsonl(study=found):
                stream.write(line)
                rows += 1
        finally:
            if out:
                stream.close()
        if codebook:
            book = pretest_codebook() if found.kind == Study.Kind.PRETEST else columns()
            Path(codebook).write_text(json.dumps(book, indent=2) + "\n", encoding="utf-8")
        self.stderr.write(f"exported {rows} rows from '{study}'")
