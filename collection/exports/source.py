"""The labels of a study as plain tuples, streamed from the database.

One query reads each current label with its assignment and annotator code;
``.iterator()`` reads it through a server-side cursor on PostgreSQL, so memory stays that
of one chunk whatever the number of labels. What labels share is read once per chunk for
the ids not seen before and kept: a stimulus's texts and attributes (hundreds of labels
each), an annotator's covariates (tens each). Sending the texts with every label was
most of the database's time. JSON columns are cast to text and timestamps formatted as
ISO 8601 text in SQL: the export writes them as text, and parsing them only to print
them again was a third of the export's time.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import NamedTuple

from django.db.models import Exists, F, Func, OuterRef, TextField
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
    labelled_at: str  # ISO 8601, UTC
    treated_on_left: bool
    p_stimulus: float
    p_order: float
    propensity: float
    design: str
    design_version: str
    stratum: str
    sequence: int
    served_at: str  # ISO 8601, UTC
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


class IsoUtc(Func):
    """A timestamp as ISO 8601 text in UTC ("2026-12-03T17:00:00.123456+00:00"), written
    by the database."""

    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    )
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps UTC timestamps as "YYYY-MM-DD HH:MM:SS[.ffffff]" text.
        template = "(replace(%(expressions)s, ' ', 'T') || '+00:00')"
        return self.as_sql(compiler, connection, template=template, **extra)


# Per label, in Record's order up to the stimulus (its columns come from _STIMULUS_FIELDS).
_LABEL_FIELDS = (
    "pk",
    "choice",
    "strength",
    "rationale",
    "time_on_task_ms",
    "labelled_at_text",
    "assignment__treated_on_left",
    "assignment__p_stimulus",
    "assignment__p_order",
    "assignment__propensity",
    "assignment__design_name",
    "assignment__design_version",
    "assignment__stratum",
    "assignment__sequence",
    "served_at_text",
    "assignment__annotator_id",
    "assignment__annotator__code",
    "assignment__stimulus_id",
)
# Per stimulus, in Record's order from intervention to the validation counts; the
# covariates (per annotator) sit between the texts and the validation in Record.
_STIMULUS_FIELDS = (
    "cell",
    "treatment_text",
    "details_text",
    "provenance",
    "is_attention_check",
    "attention_answer",
    "prompt__text",
    "control__text",
    "treated__text",
)
_VALIDATION_FIELDS = (
    "validation_status",
    "validation_n",
    "validation_identified",
    "validation_same_meaning",
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


def _chunks(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


class _Shared:
    """What labels share, read once per id: stimulus columns and annotator covariates."""

    def __init__(self, study: Study):
        self.schema_id = study.covariate_schema_id
        self.stimuli: dict[int, tuple] = {}
        self.covariates: dict[int, str | None] = {}

    def load(self, chunk: list[tuple]) -> None:
        stimulus_ids = {row[17] for row in chunk} - self.stimuli.keys()
        if stimulus_ids:
            columns = (
                Stimulus.objects.filter(pk__in=stimulus_ids)
                .annotate(
                    treatment_text=Cast("treatment", TextField()),
                    details_text=Cast("details", TextField()),
                )
                .values_list("pk", *_STIMULUS_FIELDS, *_VALIDATION_FIELDS)
            )
            for pk, *values in columns:
                self.stimuli[pk] = tuple(values)
        annotator_ids = {row[15] for row in chunk} - self.covariates.keys()
        if annotator_ids:
            self.covariates.update(dict.fromkeys(annotator_ids))
            if self.schema_id is not None:
                answers = CovariateResponse.objects.filter(
                    schema_id=self.schema_id, annotator_id__in=annotator_ids
                ).values_list("annotator_id", Cast("answers", TextField()))
                self.covariates.update(answers)

    def record_values(self, row: tuple) -> tuple:
        stimulus = self.stimuli[row[17]]
        return (*row, *stimulus[:9], self.covariates[row[15]], *stimulus[9:])


def records(*, study: Study, filters: Filters, counts: Counts) -> Iterator[Record]:
    """Every current label of the study that passes ``filters``, in label order, with
    its outcome y under the study's settings; ``counts`` is filled as it goes."""
    excluded: set[int] = set()
    if filters.min_attention_share is not None:
        excluded = low_quality_annotators(study=study, min_share=filters.min_attention_share)
        counts.low_quality_annotators = len(excluded)
    rows = (
        _current(study)
        .annotate(
            labelled_at_text=IsoUtc(F("created_at")),
            served_at_text=IsoUtc(F("assignment__served_at")),
        )
        .order_by("pk")
        .values_list(*_LABEL_FIELDS)
    )
    shared = _Shared(study)
    ties, strength = study.ties, study.strength
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK), CHUNK):
        shared.load(chunk)
        for label_row in chunk:
            row = shared.record_values(label_row)
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
        .annotate(answered_at_text=IsoUtc(F("created_at")))
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
            "answered_at_text",
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
