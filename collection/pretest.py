"""Pretests (stimulus-validation studies): per-pair verdicts from people's answers to the
manipulation-check questions.

The rule, per pretest study and pair: with fewer than ``pretest_min_answers`` answers the
pair is *pending*; otherwise it *passes* when the share of answers that picked the treated
side reaches ``pretest_min_identified`` and the share saying the two responses otherwise
say the same thing reaches ``pretest_min_same_meaning`` (defaults 5, 0.8, 0.8), and
*fails* otherwise. A minimum share with a minimum n rather than a significance test: it is
what a reviewer reads off the table, and with the defaults a pair that annotators cannot
tell apart (each picks a side at random) passes with probability at most P(Bin(5, 1/2) >= 4)
= 0.19, lower with more answers. Across pretests, a pair is *passed* when it passed at
least one and failed none.
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from collection.models import CheckAnswer, Study
from interventions.models import Stimulus
from interventions.validation import stimulus_validation_record

Status = Stimulus.ValidationStatus


@dataclass(frozen=True)
class Thresholds:
    min_answers: int
    min_identified: float
    min_same_meaning: float


def thresholds_of(study: Study) -> Thresholds:
    return Thresholds(
        study.pretest_min_answers, study.pretest_min_identified, study.pretest_min_same_meaning
    )


def pretest_verdict(*, n: int, identified: int, same_meaning: int, rule: Thresholds) -> str:
    """passed, failed or pending for one pair in one pretest (see the module's rule)."""
    if n < rule.min_answers or n == 0:
        return Status.PENDING
    if identified / n >= rule.min_identified and same_meaning / n >= rule.min_same_meaning:
        return Status.PASSED
    return Status.FAILED


def overall_verdict(verdicts: list[str]) -> str:
    """A pair's status over all its pretests: failed beats passed beats pending."""
    for status in (Status.FAILED, Status.PASSED, Status.PENDING):
        if status in verdicts:
            return status
    return Status.UNTESTED


@dataclass(frozen=True)
class PretestRow:
    stimulus_id: int
    cell: str
    n: int
    identified: int
    same_meaning: int
    verdict: str

    @property
    def identified_share(self) -> float | None:
        return self.identified / self.n if self.n else None

    @property
    def same_meaning_share(self) -> float | None:
        return self.same_meaning / self.n if self.n else None


def _counts(answers: QuerySet[CheckAnswer]) -> Any:
    return answers.values("study_id", "stimulus_id").annotate(
        n=Count("id"),
        identified=Count("id", filter=Q(identified_treated=True)),
        same=Count("id", filter=Q(same_meaning=True)),
    )


def pretest_results(*, study: Study) -> list[PretestRow]:
    """One row per pair of the pretest that has answers, with its verdict in this study."""
    rule = thresholds_of(study)
    cells = dict(
        Stimulus.objects.filter(stimulus_set__in=study.stimulus_sets.all()).values_list(
            "pk", "cell"
        )
    )
    rows = []
    for r in _counts(CheckAnswer.objects.filter(study=study)).order_by("stimulus_id"):
        rows.append(
            PretestRow(
                stimulus_id=r["stimulus_id"],
                cell=cells.get(r["stimulus_id"], ""),
                n=r["n"],
                identified=r["identified"],
                same_meaning=r["same"],
                verdict=pretest_verdict(
                    n=r["n"], identified=r["identified"], same_meaning=r["same"], rule=rule
                ),
            )
        )
    return rows


def stimuli_validation_refresh(*, stimulus_ids: list[int]) -> None:
    """Recompute the pretest status of these pairs from every answer about them and write
    it on the stimulus. Runs after each answer commits, and after a pretest's thresholds
    change. The stimulus rows are locked (in id order) while their answers are counted,
    so of two refreshes of one pair the later one counts every answer committed before
    it and writes last: no refresh overwrites a fuller count with a staler one."""
    with transaction.atomic():
        locked = list(
            Stimulus.objects.select_for_update()
            .filter(pk__in=stimulus_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        rows = list(_counts(CheckAnswer.objects.filter(stimulus_id__in=locked)))
        rules = {
            s.pk: thresholds_of(s)
            for s in Study.objects.filter(pk__in={r["study_id"] for r in rows})
        }
        for stimulus_id in locked:
            mine = [r for r in rows if r["stimulus_id"] == stimulus_id]
            verdicts = [
                pretest_verdict(
                    n=r["n"], identified=r["identified"], same_meaning=r["same"],
                    rule=rules[r["study_id"]],
                )
                for r in mine
            ]  # fmt: skip
            stimulus_validation_record(
                stimulus_id=stimulus_id,
                status=overall_verdict(verdicts),
                n=sum(r["n"] for r in mine),
                identified=sum(r["identified"] for r in mine),
                same_meaning=sum(r["same"] for r in mine),
            )


def study_validation_refresh(*, study: Study) -> None:
    """After a pretest's thresholds changed: recompute every pair it has answers for."""
    ids = list(
        CheckAnswer.objects.filter(study=study).values_list("stimulus_id", flat=True).distinct()
    )
    if ids:
        stimuli_validation_refresh(stimulus_ids=ids)
