"""Train the built-in text-feature reward model on a TRL preference export."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import RewardModel
from audit.services import AuditError, text_model_create


class Command(BaseCommand):
    help = "Train the built-in Bradley-Terry text model on an export (JSONL) and store it."

    def add_arguments(self, parser):
        parser.add_argument("export", type=Path, help="A TRL preference export (JSONL).")
        parser.add_argument("--name", required=True, help="A new reward model's name.")
        parser.add_argument("--l2", type=float, default=1.0, help="Ridge penalty (0: none).")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the pair orders.")

    def handle(self, *args, export: Path, name: str, l2: float, seed: int, **options):
        if RewardModel.objects.filter(name=name).exists():
            raise CommandError(f"a reward model is already called {name!r}: choose a new name")
        if not export.is_file():
            raise CommandError(f"{export} is not a file")
        with export.open("rb") as lines:
            try:
                model = text_model_create(name=name, export_lines=lines, l2=l2, seed=seed)
            except AuditError as error:
                raise CommandError(str(error)) from None
        self.stdout.write(f"{model.name}: {model.description}")
