"""Audit a reward model on a study's counterfactual pairs and print the table."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import RewardModel
from audit.selectors import AuditRow
from audit.services import AuditError, audit_run, scores_import
from collection.models import Study


def _pp(value: float | None) -> str:
    return "     -" if value is None else f"{100 * value:+6.1f}"


class Command(BaseCommand):
    help = "Audit a reward model on a study's pairs: model against people, per intervention."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The study's slug.")
        parser.add_argument("--model", required=True, help="The reward model's name.")
        parser.add_argument(
            "--scores", type=Path, help="JSONL of scores to store first (a scores model)."
        )

    def handle(self, *args, slug: str, model: str, scores: Path | None, **options):
        study = Study.objects.filter(slug=slug).first()
        if study is None:
            raise CommandError(f"no study has the slug {slug!r}")
        reward_model = RewardModel.objects.filter(name=model).first()
        if reward_model is None:
            raise CommandError(f"no reward model is called {model!r}; see reward_train")
        try:
            if scores is not None:
                with scores.open("rb") as lines:
                    stored = scores_import(reward_model=reward_model, study=study, lines=lines)
                self.stdout.write(f"{stored} new scores stored")
            rows = audit_run(reward_model=reward_model, study=study)
        except (AuditError, OSError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write("intervention          pairs   model (95% CI)        people   gap (pp)")
        for r in rows:
            self.stdout.write(
                f"{r.intervention.name:20} {r.pairs:6} {_pp(r.point)} "
                f"[{_pp(r.ci_low)},{_pp(r.ci_high)}] {_pp(r.human_point)} {_pp(r.gap)}"
            )
        for r in rows:
            self.stdout.write(AuditRow(r).sentence)
