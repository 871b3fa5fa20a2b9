"""Label submission: one transaction per label, idempotent on the client's submission id."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from collection.engine_sql import (
    AssignmentToLabel,
    Statement,
    label_context_locked,
    row_insert,
    row_update_statement,
)
from collection.errors import LabelRejected
from collection.models import Assignment, CheckAnswer, Enrollment, Label, Study, Webhook
from collection.pool import tally_add_statement
from collection.pretest import stimuli_validation_refresh
from collection.refresh import refresh_enqueue
from collection.selectors import completion_code_issued
from collection.services.webhooks import webhooks_emit


@dataclass(frozen=True)
class LabelResult:
    label: Label | CheckAnswer  # a pretest stores check answers instead of a label
    replayed: bool
    completed: bool
    labels_done: int  # the enrollment's labels, this one included
    labels_total: int  # the study's labels per annotator
    completion_code: str | None  # the annotator's code once the quota is met
    # Whether the study had an active webhook as the label was stored (read in the same
    # round trip as the locks); a replay tells nobody again.
    webhooks_active: bool = False


def _outcome(choice: str, treated_on_left: bool) -> float:
    if choice == Label.Choice.TIE:
        return 0.5
    return 1.0 if (choice == Label.Choice.LEFT) == treated_on_left else 0.0


# A tie has no "how much better": the page disables that question, the outcome ignores
# it, and the column (NOT NULL, 1..3) stores this placeholder whatever was sent.
TIE_STRENGTH = 1


def _validate(choice: str, strength: int | None, time_on_task_ms: int | None) -> None:
    if choice not in Label.Choice.values:
        raise LabelRejected(f"choice must be one of left, right, tie; got {choice!r}")
    if choice == Label.Choice.TIE:
        return _validate_time(time_on_task_ms)
    if strength is None:
        raise LabelRejected("say how much better the chosen response is (strength 1, 2 or 3)")
    if not isinstance(strength, int) or isinstance(strength, bool) or not 1 <= strength <= 3:
        raise LabelRejected(f"strength must be 1, 2 or 3; got {strength!r}")
    _validate_time(time_on_task_ms)


def _validate_time(time_on_task_ms: int | None) -> None:
    if time_on_task_ms is not None and not 0 <= time_on_task_ms < 2**31:
        raise LabelRejected("time_on_task_ms must be a non-negative number of milliseconds")


def label_submit(
    *,
    enrollment_id: int,
    assignment_id: int,
    submission_id: uuid.UUID,
    choice: str,
    strength: int | None = None,
    rationale: str = "",
    time_on_task_ms: int | None = None,
) -> LabelResult:
    """Store one label for an open assignment of this enrollment, in one transaction.

    Idempotent on ``submission_id``: a replay returns the original label unchanged.
    Rejected with LabelRejected (nothing written) when the assignment is unknown, another
    enrollment's, already labelled or expired, or the values are invalid. After commit
    the study's analysis refresh is enqueued.

    Locking follows the engine's order: the enrollment row first (so a label and a draw
    for the same annotator never interleave), then the assignment row (FOR UPDATE OF
    those rows only: the study row is read, never locked); the CellTally row last, and
    only under the adaptive design that reads it.
    """
    _validate(choice, strength, time_on_task_ms)
    if choice == Label.Choice.TIE:
        strength = TIE_STRENGTH

    def row(assignment: AssignmentToLabel, writes: list[Statement]) -> dict[str, object]:
        outcome = _outcome(choice, assignment.treated_on_left)
        if assignment.design_name == Study.Design.NEYMAN and assignment.cell:
            writes.append(
                tally_add_statement(
                    assignment.study_id,
                    assignment.stratum,
                    assignment.cell,
                    labels=1,
                    y_sum=outcome,
                    y_sq_sum=outcome * outcome,
                )
            )
        study_id = assignment.study_id
        transaction.on_commit(lambda: refresh_enqueue(study_id=study_id))
        return {
            "choice": choice,
            "strength": strength,
            "rationale": rationale.strip()[:5000],
            "time_on_task_ms": time_on_task_ms,
            "outcome": outcome,
        }

    result = judgement_store(
        model=Label,
        enrollment_id=enrollment_id,
        assignment_id=assignment_id,
        submission_id=submission_id,
        row=row,
    )
    label = result.label
    if result.webhooks_active and not result.replayed and isinstance(label, Label):
        webhooks_emit(
            study_id=label.study_id,
            event=Webhook.Event.LABEL_CREATED,
            data={
                "label_id": label.pk,
                "assignment_id": assignment_id,
                "choice": label.choice,
                "strength": label.strength,
                "outcome": label.outcome,
                "created_at": label.created_at,
            },
        )
    return result


def judgement_store(
    *,
    model: type[Label] | type[CheckAnswer],
    enrollment_id: int,
    assignment_id: int,
    submission_id: uuid.UUID,
    row: Callable[[AssignmentToLabel, list[Statement]], dict[str, object]],
) -> LabelResult:
    """Store one judgement (a label, or a pretest's check answers) of an open assignment
    in one transaction: the row ``row`` makes (it may add statements to the writes), the
    assignment's state and the enrollment's count. Idempotent on ``submission_id``; the
    locks and refusals are label_submit's."""
    try:
        with transaction.atomic():
            now = timezone.now()
            context = label_context_locked(enrollment_id, assignment_id, now)
            if context is None:
                raise LabelRejected("this enrollment does not exist; open the study's link again")
            if (context.study_kind == Study.Kind.PRETEST) != (model is CheckAnswer):
                raise LabelRejected(
                    "this study asks the check questions; send them to its checks endpoint"
                    if context.study_kind == Study.Kind.PRETEST
                    else "this study asks which response is better; send a label instead"
                )
            assignment = context.assignment
            if assignment is None:
                _replay(model, enrollment_id, assignment_id, submission_id)  # if misused
                raise LabelRejected("this pair is not assigned to you; load the next pair")
            if assignment.state == Assignment.State.LABELLED:
                # A concurrent submission of the same id may have committed while this
                # one waited for the locks: that is a replay, not a second label.
                replay = _replay(model, enrollment_id, assignment_id, submission_id)
                if replay is not None:
                    return replay
                raise LabelRejected("this pair is already labelled; load the next pair")
            if assignment.state == Assignment.State.RETURNED or assignment.expired:
                raise LabelRejected("this pair expired before it was labelled; load a new pair")
            labels_done = context.labels_done + 1
            completed = context.completed or labels_done >= context.labels_per_annotator
            counted: dict[str, object] = {"labels_done": labels_done}
            if completed and not context.completed:
                counted["completed_at"] = now
            # The judgement, the assignment's state and the annotator's count in one
            # round trip.
            writes = [
                row_update_statement(
                    Assignment, assignment_id, {"state": Assignment.State.LABELLED}
                ),
                row_update_statement(Enrollment, enrollment_id, counted),
            ]
            values = row(assignment, writes)
            stored = row_insert(
                model,
                {
                    "study_id": assignment.study_id,
                    "assignment_id": assignment_id,
                    "submission_id": submission_id,
                    # The instant the expiry was checked: a label is never stamped
                    # after its assignment expired.
                    "created_at": now,
                    **values,
                },
                before=writes,
            )
            study_id = assignment.study_id
    except IntegrityError:
        # A concurrent replay of the same submission won the race: return its row.
        replay = _replay(model, enrollment_id, assignment_id, submission_id)
        if replay is None:
            raise
        return replay
    return LabelResult(
        label=stored,
        replayed=False,
        completed=completed,
        labels_done=labels_done,
        labels_total=context.labels_per_annotator,
        completion_code=completion_code_issued(
            study_id=study_id, study_code=context.completion_code, enrollment_id=enrollment_id
        )
        if completed
        else None,
        webhooks_active=context.webhooks_active,
    )


def _replay(
    model: type[Label] | type[CheckAnswer],
    enrollment_id: int,
    assignment_id: int,
    submission_id: uuid.UUID,
) -> LabelResult | None:
    """The row stored under this submission id, as a replay; None if there is none.
    Raises LabelRejected when the id was used by another enrollment or for another pair."""
    label = (
        model.objects.select_related("assignment__enrollment__study")
        .filter(submission_id=submission_id)
        .first()
    )
    if label is None:
        return None
    enrollment = label.assignment.enrollment
    if enrollment.pk != enrollment_id:
        raise LabelRejected("this submission id was used by someone else; reload the page")
    if label.assignment_id != assignment_id:
        raise LabelRejected(
            "this submission id was already used for another pair; send a new submission id"
        )
    completed = enrollment.completed_at is not None
    return LabelResult(
        label=label,
        replayed=True,
        completed=completed,
        labels_done=enrollment.labels_done,
        labels_total=enrollment.study.labels_per_annotator,
        completion_code=completion_code_issued(
            study_id=enrollment.study_id,
            study_code=enrollment.study.completion_code,
            enrollment_id=enrollment.pk,
            attention_min=enrollment.study.attention_min_share,
        )
        if completed
        else None,
    )


def check_answer_submit(
    *,
    enrollment_id: int,
    assignment_id: int,
    submission_id: uuid.UUID,
    identified: str,
    same_meaning: bool,
    time_on_task_ms: int | None = None,
) -> LabelResult:
    """Store a pretest's answers about one open assignment: which side shows the
    intended attribute (left, right or none) and whether the responses otherwise say the
    same thing. Locks, idempotency and refusals as label_submit; no analysis refresh (a
    pretest has no preference to estimate). After commit the pair's pretest status is
    recomputed."""
    if identified not in CheckAnswer.Identified.values:
        raise LabelRejected(f"identified must be one of left, right, none; got {identified!r}")
    if not isinstance(same_meaning, bool):
        raise LabelRejected(f"same_meaning must be true or false; got {same_meaning!r}")
    if time_on_task_ms is not None and not 0 <= time_on_task_ms < 2**31:
        raise LabelRejected("time_on_task_ms must be a non-negative number of milliseconds")

    def row(assignment: AssignmentToLabel, writes: list[Statement]) -> dict[str, object]:
        treated_side = "left" if assignment.treated_on_left else "right"
        stimulus_id = assignment.stimulus_id
        transaction.on_commit(lambda: stimuli_validation_refresh(stimulus_ids=[stimulus_id]))
        return {
            "stimulus_id": stimulus_id,
            "identified": identified,
            "identified_treated": identified == treated_side,
            "same_meaning": same_meaning,
            "time_on_task_ms": time_on_task_ms,
        }

    return judgement_store(
        model=CheckAnswer,
        enrollment_id=enrollment_id,
        assignment_id=assignment_id,
        submission_id=submission_id,
        row=row,
    )
