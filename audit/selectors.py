"""Reads of the audit app: the pairs a study audits, the scoring sheet, the latest audit."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from django.db.models import OuterRef, QuerySet, Subquery

from analysis.sentences import treated_phrase
from audit.models import AuditResult, RewardModel
from collection.models import Study
from interventions.models import Stimulus
from interventions.selectors import stimuli_eligible


def study_pairs(*, study: Study) -> QuerySet[Stimulus]:
    """The counterfactual pairs of the study: generated, passed their check, not
    attention checks (imported observational pairs have no treated side to audit)."""
    return stimuli_eligible(stimulus_sets=study.stimulus_sets.all()).filter(
        is_attention_check=False, provenance=Stimulus.Provenance.INTERVENTIONAL
    )


def scoring_sheet(*, study: Study) -> Iterator[bytes]:
    """JSONL, one line per side of each pair: what a reward model must score. The upload
    answers each line with {"stimulus", "side", "score"}."""
    pairs = study_pairs(study=study).select_related("prompt", "control", "treated")
    for p in pairs.order_by("pk").iterator(chunk_size=500):
        for side in ("control", "treated"):
            row = {
                "stimulus": p.pk,
                "side": side,
                "intervention": p.cell,
                "prompt": p.prompt.text,
                "response": getattr(p, side).text,
            }
            yield json.dumps(row, ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True)
class AuditRow:
    result: AuditResult

    @property
    def sentence(self) -> str:
        r = self.result
        share = round(100 * (0.5 + r.point))
        what = treated_phrase(r.intervention.name)
        text = f"The model scored {what} higher in {share}% of {r.pairs} pairs"
        if r.ci_low is not None:
            low, high = round(100 * (0.5 + r.ci_low)), round(100 * (0.5 + r.ci_high))
            text += f" (95% CI {low}% to {high}%)"
        if r.human_point is None:
            return text + "; people have no estimate yet."
        text += f"; people chose it in {round(100 * (0.5 + r.human_point))}%."
        if r.gap_ci_low is None:
            return text
        points = abs(round(100 * r.gap))
        if r.gap_ci_low > 0:
            return text + f" The model favours it {points} points more than people do."
        if r.gap_ci_high < 0:
            return text + f" The model favours it {points} points less than people do."
        return text + " No clear gap between the model and people."


@dataclass(frozen=True)
class ModelAudit:
    reward_model: RewardModel
    run: int
    rows: list[AuditRow]


def audits_latest(*, study: Study) -> list[ModelAudit]:
    """The newest audit run of each reward model on the study, in one query."""
    newest = (
        AuditResult.objects.filter(study=study, reward_model=OuterRef("reward_model"))
        .order_by("-run")
        .values("run")[:1]
    )
    results = (
        AuditResult.objects.filter(study=study, run=Subquery(newest))
        .select_related("intervention", "reward_model")
        .order_by("reward_model_id", "intervention__name")
    )
    audits = []
    for _, rows in groupby((AuditRow(x) for x in results), key=lambda r: r.result.reward_model_id):
        chosen = list(rows)
        first = chosen[0].result
        audits.append(ModelAudit(first.reward_model, first.run, chosen))
    return audits
