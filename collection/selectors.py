"""Reads for a running study."""

import math
from dataclasses import dataclass

from django.db.models import Sum

from annotators.models import Annotator, CovariateResponse
from collection.engine_sql import execute_batch
from collection.models import Assignment, CellTally, Enrollment, Label, Study
from collection.recruitment import completion_code_for, exit_site, exit_url
from interventions.models import Prompt, Response, Stimulus


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 100


def enrollment_progress(*, enrollment: Enrollment) -> Progress:
    return Progress(done=enrollment.labels_done, total=enrollment.study.labels_per_annotator)


def annotator_stratum(*, study: Study, annotator_id: int) -> str:
    """The annotator's randomisation stratum: the study's stratifying covariates
    (``design_params['strata']``) and their answers, as 'key=value;key=value'."""
    keys = study.design_params.get("strata") or []
    if not keys or study.covariate_schema_id is None:
        return ""
    answers = (
        CovariateResponse.objects.filter(
            annotator_id=annotator_id, schema_id=study.covariate_schema_id
        )
        .values_list("answers", flat=True)
        .first()
    ) or {}
    return ";".join(f"{key}={answers.get(key, '')}" for key in keys)[:200]


def cell_outcome_moments(*, study: Study, cells: list[str]) -> tuple[list[int], list[float]]:
    """Labels and outcome standard deviation per cell (all strata), from the running
    tallies the label service keeps: the adaptive design's input."""
    rows = (
        CellTally.objects.filter(study=study, cell__in=cells)
        .values("cell")
        .annotate(n=Sum("labels"), s=Sum("y_sum"), q=Sum("y_sq_sum"))
    )
    by_cell = {r["cell"]: r for r in rows}
    n_out, sd_out = [], []
    for cell in cells:
        r = by_cell.get(cell) or {"n": 0, "s": 0.0, "q": 0.0}
        n = int(r["n"] or 0)
        mean = (r["s"] or 0.0) / n if n else 0.0
        var = ((r["q"] or 0.0) - n * mean * mean) / (n - 1) if n >= 2 else 0.0
        n_out.append(n)
        sd_out.append(math.sqrt(max(var, 0.0)))
    return n_out, sd_out


@dataclass(frozen=True)
class PairTexts:
    prompt: str
    left: str
    right: str


def pair_texts(*, assignment: Assignment) -> PairTexts:
    """The prompt and both responses of an assignment, in the order shown, in one joined
    read. Nothing in it says which side is treated."""
    # Through the hot path's executor: run on every pair served, the read is prepared.
    ((prompt, control, treated),) = execute_batch(
        [
            (
                f"SELECT p.text, c.text, t.text FROM {Stimulus._meta.db_table} s "
                f"JOIN {Prompt._meta.db_table} p ON p.id = s.prompt_id "
                f"JOIN {Response._meta.db_table} c ON c.id = s.control_id "
                f"JOIN {Response._meta.db_table} t ON t.id = s.treated_id WHERE s.id = %s",
                [assignment.stimulus_id],
            )
        ]
    )[0]
    if assignment.treated_on_left:
        return PairTexts(prompt=prompt, left=treated, right=control)
    return PairTexts(prompt=prompt, left=control, right=treated)


@dataclass(frozen=True)
class Exit:
    """How a participant left the study, the code that says so, and where they go."""

    outcome: str  # "completed", "declined", "returned" or "not-verified" (rule not met)
    code: str  # "" when the study set no code for this way out
    url: str | None  # the recruitment site's completion URL with the code; None: stay

    @property
    def site(self) -> str:
        return exit_site(self.url) if self.url else ""


def attention_passed(*, enrollment_id: int) -> tuple[int, int]:
    """(attention checks answered as asked, attention checks answered) by an enrollment."""
    rows = Label.objects.filter(
        assignment__enrollment_id=enrollment_id,
        assignment__stimulus__is_attention_check=True,
        superseded_by__isnull=True,
    ).values_list("choice", "assignment__treated_on_left", "assignment__stimulus__attention_answer")
    passed = sum(
        (choice == "left") == (left == (answer == Stimulus.Side.TREATED))
        for choice, left, answer in rows
        if choice != "tie"
    )
    return passed, len(rows)


def completion_code_issued(
    *, study_id: int, study_code: str, enrollment_id: int, attention_min: float | None = None
) -> str | None:
    """The completion code a finished enrollment receives, or None when it fails the
    study's completion rule (too few attention checks answered as asked). Every place that
    shows or sends a code asks here, so the rule cannot be bypassed."""
    if attention_min is None:
        attention_min = (
            Study.objects.filter(pk=study_id).values_list("attention_min_share", flat=True).first()
            or 0.0
        )
    if attention_min > 0:
        passed, answered = attention_passed(enrollment_id=enrollment_id)
        if answered and passed / answered < attention_min:
            return None
    return completion_code_for(
        study_code=study_code, study_id=study_id, enrollment_id=enrollment_id
    )


def enrollment_exit(*, enrollment: Enrollment) -> Exit | None:
    """The way out of a finished, declined or returned enrollment; None while it runs.

    Only a participant who arrived from Prolific is sent anywhere: someone who came by
    the open link came from no recruitment site. An annotator's own completion code
    (the study set none) is shown, never sent: Prolific accepts only its study's codes.
    """
    study = enrollment.study
    if enrollment.declined_at is not None:
        outcome, code, shared = "declined", study.no_consent_code, study.no_consent_code
    elif enrollment.returned_at is not None:
        outcome, code, shared = "returned", study.returned_code, study.returned_code
    elif enrollment.completed_at is not None:
        issued = completion_code_issued(
            study_id=study.pk,
            study_code=study.completion_code,
            enrollment_id=enrollment.pk,
            attention_min=study.attention_min_share,
        )
        if issued is None:
            return Exit(outcome="not-verified", code="", url=None)
        code, outcome, shared = issued, "completed", study.completion_code
    else:
        return None
    recruited = (
        bool(enrollment.prolific_session_id)
        or enrollment.annotator.recruitment == Annotator.Recruitment.PROLIFIC
    )
    url = exit_url(template=study.completion_url_template, code=shared) if recruited else None
    return Exit(outcome=outcome, code=code, url=url)
