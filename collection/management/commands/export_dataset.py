from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collection.exports.columns import FORMATS
from collection.exports.services import ExportInvalid, export_write
from collection.models import Study


class Command(BaseCommand):
    help = (
        "Write a study's export bundle (zip: data file, codebook.json, DATACARD.md) without "
        "a worker. The admin's Export page queues the same export and adds the estimates."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", help="the study's slug")
        parser.add_argument("--out", required=True, help="the zip to write")
        parser.add_argument("--format", default="trl", choices=FORMATS)
        parser.add_argument("--file-format", default="jsonl", choices=("jsonl", "parquet"))
        parser.add_argument("--exclude-ties", action="store_true")
        parser.add_argument("--exclude-attention-checks", action="store_true")
        parser.add_argument("--exclude-attention-failures", action="store_true")
        parser.add_argument("--min-attention-share", type=float, default=None)

    def handle(self, *args, study: str, out: str, **options):
        found = Study.objects.filter(slug=study).first()
        if found is None:
            raise CommandError(f"no study with slug '{study}'; see the studies in the admin")
        keys = (
            "exclude_ties",
            "exclude_attention_checks",
            "exclude_attention_failures",
            "min_attention_share",
        )
        try:
            written = export_write(
                study=found,
                format=options["format"],
                file_format=options["file_format"],
                options={k: options[k] for k in keys},
                out=Path(out).resolve(),
            )
        except ExportInvalid as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"exported {written.rows} rows from '{study}' to {out}")
