"""Dataset export: TRL preference rows (prompt, chosen, rejected) plus the metadata a
causal analysis needs (treatment, position, propensity, annotator covariates)."""

import json
from collections.abc import Iterator

from annotators.models import CovariateResponse
from collection.models import CheckAnswer, Label, Study
from collection.outcomes import label_outcome
from collection.pretest import pretest_results

EXPORT_CHUNK = 1000


def dataset_rows(*, study: Study) -> Iterator[dict[str, object]]:
    """Rows for every current (not superseded) label, in label order, with the outcome y
    the live estimates use (``collection.outcomes``: the study's tie and strength
    settings).

    A label with y = 1 or 0 is one row of weight 1. A label with y strictly between (a tie
    counted as half, a graded preference) is two rows, treated chosen with weight y and
    control chosen with weight 1 - y: TRL's format cannot say "neither side", and a
    trainer that uses ``weight`` then learns exactly the estimand on the results page.
    A tie the study leaves out is left out here too. Attention checks are included and
    flagged so a trainer can drop them.
    """
    covariates: dict[int, object] = {}
    if study.covariate_schema_id:
        covariates = dict(
            CovariateResponse.objects.filter(schema_id=study.covariate_schema_id).values_list(
                "annotator_id", "answers"
            )
        )
    labels = (
        Label.objects.filter(study=study, superseded_by__isnull=True)
        .select_related(
            "assignment__annotator",
            "assignment__stimulus__prompt",
            "assignment__stimulus__control",
            "assignment__stimulus__treated",
        )
        .order_by("pk")
    )
    for label in labels.iterator(chunk_size=EXPORT_CHUNK):
        assignment = label.assignment
        y = label_outcome(
            choice=label.choice,
            strength=label.strength,
            treated_on_left=assignment.treated_on_left,
            ties=study.ties,
            strength_mode=study.strength,
        )
        if y is None:
            continue
        for treated_won, weight in ((True, y), (False, 1.0 - y)):
            if weight > 0:
                yield _row(study, label, covariates, y=y, treated_won=treated_won, weight=weight)


def _row(
    study: Study,
    label: Label,
    covariates: dict[int, object],
    *,
    y: float,
    treated_won: bool,
    weight: float,
) -> dict[str, object]:
    assignment = label.assignment
    stimulus = assignment.stimulus
    winner, loser = (
        (stimulus.treated, stimulus.control)
        if treated_won
        else (stimulus.control, stimulus.treated)
    )
    return {
        "prompt": stimulus.prompt.text,
        "chosen": winner.text,
        "rejected": loser.text,
        "weight": weight,
        "y": y,
        "study": study.slug,
        "label_id": label.pk,
        "stimulus_id": stimulus.pk,
        "cell": stimulus.cell,
        "treatment": stimulus.treatment,
        "provenance": stimulus.provenance,
        # What each intervention recorded, e.g. which side carries a factual error.
        "intervention_details": stimulus.details,
        "chosen_is_treated": treated_won,
        "treated_on_left": assignment.treated_on_left,
        "choice": label.choice,
        "strength": label.strength,
        "rationale": label.rationale,
        "time_on_task_ms": label.time_on_task_ms,
        "annotator": assignment.annotator.code,
        "covariates": covariates.get(assignment.annotator_id),
        "propensity": assignment.propensity,
        "p_stimulus": assignment.p_stimulus,
        "p_order": assignment.p_order,
        "design": assignment.design_name,
        "design_version": assignment.design_version,
        "is_attention_check": stimulus.is_attention_check,
        # People's pretest of the pair (stimulus-validation studies), over all pretests.
        "pretest_status": stimulus.validation_status,
        "pretest_answers": stimulus.validation_n,
        "pretest_identified_share": _share(stimulus.validation_identified, stimulus.validation_n),
        "pretest_same_meaning_share": _share(
            stimulus.validation_same_meaning, stimulus.validation_n
        ),
        "served_at": assignment.served_at.isoformat(),
        "labelled_at": label.created_at.isoformat(),
    }


def _share(part: int, n: int) -> float | None:
    return part / n if n else None


def pretest_rows(*, study: Study) -> Iterator[dict[str, object]]:
    """A pretest's answers, one row per answered pair in answer order, with the pair's
    verdict in this pretest under its current thresholds."""
    verdicts = {r.stimulus_id: r.verdict for r in pretest_results(study=study)}
    answers = (
        CheckAnswer.objects.filter(study=study)
        .select_related("assignment__annotator", "stimulus")
        .order_by("pk")
    )
    for answer in answers.iterator(chunk_size=EXPORT_CHUNK):
        assignment = answer.assignment
        yield {
            "study": study.slug,
            "answer_id": answer.pk,
            "stimulus_id": answer.stimulus_id,
            "cell": answer.stimulus.cell,
            "annotator": assignment.annotator.code,
            "treated_on_left": assignment.treated_on_left,
            "identified": answer.identified,
            "identified_treated": answer.identified_treated,
            "same_meaning": answer.same_meaning,
            "time_on_task_ms": answer.time_on_task_ms,
            "verdict": verdicts.get(answer.stimulus_id),
            "answered_at": answer.created_at.isoformat(),
        }


def dataset_jsonl(*, study: Study) -> Iterator[str]:
    """The study's export: preference rows, or a pretest's answers."""
    rows = pretest_rows if study.kind == Study.Kind.PRETEST else dataset_rows
    for row in rows(study=study):
        yield json.dumps(row, ensure_ascii=False) + "\n"
