"""The labels of a study as plain tuples, streamed from the database.

One query joins each current label to its assignment, stimulus, texts, annotator code and
covariates; ``.iterator()`` reads it through a server-side cursor on PostgreSQL, so memory
stays that of one chunk whatever the study's size. JSON columns are cast to text in SQL:
the export writes them as JSON text, and parsing them only to dump them again would be
most of the export's time.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Subquery, TextField
from django.db.models.functions import Cast

from annotators.models import CovariateResponse
from collection.models import CheckAnswer, Label, Study
from collection.outcomes import label_outcome
from collection.pretest import pretest_results
from interventions.models import Stimulus

CHUNK = 5000


@dataclass(frozen=True)
class Filters:
    """Which labels an export leaves out; every one is recorded in the export's options
    and counted in its data card."""

    exclude_ties: bool = False
    exclude_attention_checks: bool = False
    exclude_attention_failures: bool = False
    # Annotators who answered a smaller share of their attention checks as asked lose
    # all their labels; annotators who answered none are kept.
    min_attention_share: float | None = None

    @classmethod
    def from_options(cls, options: dict[str, object]) -> "Filters":
        share = options.get("min_attention_share")
        return cls(
            exclude_ties=bool(options.get("exclude_ties", False)),
            exclude_attention_checks=bool(options.get("exclude_attention_checks", False)),
            exclude_attention_failures=bool(options.get("exclude_attention_failures", False)),
            min_attention_share=None if share in (None, "") else float(share),  # type: ignore[arg-type]
        )


class Record(NamedTuple):
    """One current label with everything any format writes."""

    label_id: int
    choice: str
    strength: int
    rationale: str
    time_on_task_ms: int | None
    labelled_at: object
    treated_on_left: bool
    p_stimulus: float
    p_order: float
    propensity: float
    design: str
    design_version: str
    stratum: str
    sequence: int
    served_at: object
    annotator_id: int
    annotator: str
    stimulus_id: int
    intervention: str
    treatment: str
    details: str
    provenance: str
    is_attention_check: bool
    attention_answer: str
    prompt: str
    control: str
    treated: str
    covariates: str | None
    validation_status: str
    validation_n: int
    validation_identified: int
    validation_same_meaning: int
    # Derived, not read.
    y: float | None
    attention_passed: bool | None


_FIELDS = (
    "pk",
    "choice",
    "strength",
    "rationale",
    "time_on_task_ms",
    "created_at",
    "assignment__treated_on_left",
    "assignment__p_stimulus",
    "assignment__p_order",
    "assignment__propensity",
    "assignment__design_name",
    "assignment__design_version",
    "assignment__stratum",
    "assignment__sequence",
    "assignment__served_at",
    "assignment__annotator_id",
    "assignment__annotator__code",
    "assignment__stimulus_id",
    "assignment__stimulus__cell",
    "treatment_text",
    "details_text",
    "assignment__stimulus__provenance",
    "assignment__stimulus__is_attention_check",
    "assignment__stimulus__attention_answer",
    "assignment__stimulus__prompt__text",
    "assignment__stimulus__control__text",
    "assignment__stimulus__treated__text",
    "covariates_text",
    "assignment__stimulus__validation_status",
    "assignment__stimulus__validation_n",
    "assignment__stimulus__validation_identified",
    "assignment__stimulus__validation_same_meaning",
)


@dataclass
class Counts:
    """What the stream saw and left out, for the export record and the data card."""

    labels: int = 0
    exported: int = 0
    ties: int = 0
    ties_left_out_by_study: int = 0
    ties_without_rows: int = 0
    ties_filtered: int = 0
    attention_checks_filtered: int = 0
    attention_failures_filtered: int = 0
    low_quality_annotators: int = 0
    low_quality_labels_filtered: int = 0
    propensity: dict[str, list[float]] = field(default_factory=dict)

    def see_propensity(self, design: str, p: float) -> None:
        # [count, sum, min, max] per design: a fixed size whatever the number of labels.
        s = self.propensity.setdefault(design, [0, 0.0, p, p])
        s[0] += 1
        s[1] += p
        s[2] = min(s[2], p)
        s[3] = max(s[3], p)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {k: v for k, v in vars(self).items() if k != "propensity"}
        out["propensity"] = {
            d: {"labels": int(n), "mean": total / n, "min": lo, "max": hi}
            for d, (n, total, lo, hi) in sorted(self.propensity.items())
        }
        return out


def _passed(choice: str, treated_on_left: bool, answer: str) -> bool:
    # As collection.selectors.attention_passed: a tie never passes.
    if choice == Label.Choice.TIE:
        return False
    return (choice == Label.Choice.LEFT) == (treated_on_left == (answer == Stimulus.Side.TREATED))


def _current(study: Study):
    # NOT EXISTS rather than the ORM's LEFT JOIN for superseded_by__isnull: PostgreSQL
    # estimates the join at one row and, behind a server-side cursor, picked a plan that
    # took 250 us a label at 200,000 labels.
    corrected = Label.objects.filter(supersedes_id=OuterRef("pk"))
    return Label.objects.filter(study=study).filter(~Exists(corrected))


def low_quality_annotators(*, study: Study, min_share: float) -> set[int]:
    """Annotators whose share of attention checks answered as asked is below
    ``min_share``. Reads attention-check labels only, and keeps one pair of counts per
    annotator who answered one."""
    tally: dict[int, list[int]] = {}
    rows = (
        _current(study)
        .filter(assignment__stimulus__is_attention_check=True)
        .values_list(
            "assignment__annotator_id",
            "choice",
            "assignment__treated_on_left",
            "assignment__stimulus__attention_answer",
        )
    )
    for annotator_id, choice, left, answer in rows.iterator(chunk_size=CHUNK):
        t = tally.setdefault(annotator_id, [0, 0])
        t[0] += _passed(choice, left, answer)
        t[1] += 1
    return {a for a, (passed, answered) in tally.items() if passed / answered < min_share}


def records(*, study: Study, filters: Filters, counts: Counts) -> Iterator[Record]:
    """Every current label of the study that passes ``filters``, in label order, with
    its outcome y under the study's settings; ``counts`` is filled as it goes."""
    excluded: set[int] = set()
    if filters.min_attention_share is not None:
        excluded = low_quality_annotators(study=study, min_share=filters.min_attention_share)
        counts.low_quality_annotators = len(excluded)
    covariates = CovariateResponse.objects.filter(
        annotator_id=OuterRef("assignment__annotator_id"), schema_id=study.covariate_schema_id
    ).values("answers")[:1]
    rows = (
        _current(study)
        .annotate(
            treatment_text=Cast("assignment__stimulus__treatment", TextField()),
            details_text=Cast("assignment__stimulus__details", TextField()),
            covariates_text=Cast(Subquery(covariates), TextField()),
        )
        .order_by("pk")
        .values_list(*_FIELDS)
    )
    ties, strength = study.ties, study.strength
    for row in rows.iterator(chunk_size=CHUNK):
        counts.labels += 1
        choice, left, annotator_id, is_check = row[1], row[6], row[15], row[22]
        if choice == Label.Choice.TIE:
            counts.ties += 1
            if filters.exclude_ties:
                counts.ties_filtered += 1
                continue
        if annotator_id in excluded:
            counts.low_quality_labels_filtered += 1
            continue
        passed = _passed(choice, left, row[23]) if is_check else None
        if is_check and filters.exclude_attention_checks:
            counts.attention_checks_filtered += 1
            continue
        if passed is False and filters.exclude_attention_failures:
            counts.attention_failures_filtered += 1
            continue
        y = label_outcome(
            choice=choice,
            strength=row[2],
            treated_on_left=left,
            ties=ties,
            strength_mode=strength,
        )
        if y is None:
            counts.ties_left_out_by_study += 1
        counts.exported += 1
        counts.see_propensity(row[10], row[9])
        yield Record._make((*row, y, passed))


def pretest_answer_rows(*, study: Study) -> Iterator[dict[str, object]]:
    """A pretest's answers, one row per answered pair in answer order, with the pair's
    verdict in this pretest under its current thresholds."""
    verdicts = {r.stimulus_id: r.verdict for r in pretest_results(study=study)}
    rows = (
        CheckAnswer.objects.filter(study=study)
        .order_by("pk")
        .values_list(
            "pk",
            "stimulus_id",
            "stimulus__cell",
            "assignment__annotator__code",
            "assignment__treated_on_left",
            "identified",
            "identified_treated",
            "same_meaning",
            "time_on_task_ms",
            "created_at",
        )
    )
    for pk, stimulus_id, cell, code, left, identified, noticed, same, ms, at in rows.iterator(
        chunk_size=CHUNK
    ):
        yield {
            "study": study.slug,
            "answer_id": pk,
            "stimulus_id": stimulus_id,
            "cell": cell,
            "annotator": code,
            "treated_on_left": left,
            "identified": identified,
            "identified_treated": noticed,
            "same_meaning": same,
            "time_on_task_ms": ms,
            "verdict": verdicts.get(stimulus_id),
            "answered_at": at,
        }
