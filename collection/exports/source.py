"""The labels of a study as Arrow tables of a few thousand labels, streamed from the
database.

One query reads each current label with its assignment and annotator code. On
PostgreSQL it runs as ``COPY ... TO STDOUT`` in CSV, parsed by Arrow's CSV reader, so no
Python object is made per value and the database computes the next rows while this
process shapes the last ones; elsewhere (SQLite) the ORM reads it CHUNK rows at a time.
What labels share is read once per id not seen before and kept: a stimulus's texts and
attributes (hundreds of labels each), an annotator's covariates (tens each). Sending the
texts with every label was most of the database's time. JSON columns are cast to text
and timestamps formatted as ISO 8601 text in SQL: the export writes them as text.
The rules (a label's outcome, an attention check's verdict) stay in Python, called once
per distinct combination of their inputs.
"""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.db.models import Exists, F, Func, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast
from pyarrow import csv as pa_csv

from annotators.models import CovariateResponse
from collection.models import Assignment, CheckAnswer, Enrollment, Label, Study
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


# The label columns read per label, as (query field, column name, Arrow type), in the
# order of the label table (collection.exports.formats reads it by name).
_LABEL_FIELDS: tuple[tuple[str, str, pa.DataType], ...] = (
    ("pk", "label_id", pa.int64()),
    ("choice", "choice", pa.string()),
    ("strength", "strength", pa.int64()),
    ("rationale", "rationale", pa.string()),
    ("time_on_task_ms", "time_on_task_ms", pa.int64()),
    ("labelled_at_text", "labelled_at", pa.string()),
    ("assignment__treated_on_left", "treated_on_left", pa.bool_()),
    ("assignment__p_stimulus", "p_stimulus", pa.float64()),
    ("assignment__p_order", "p_order", pa.float64()),
    ("assignment__propensity", "propensity", pa.float64()),
    ("assignment__design_name", "design", pa.string()),
    ("assignment__design_version", "design_version", pa.string()),
    ("assignment__stratum", "stratum", pa.string()),
    ("assignment__sequence", "sequence", pa.int64()),
    ("served_at_text", "served_at", pa.string()),
    ("assignment__annotator_id", "annotator_id", pa.int64()),
    ("assignment__annotator__code", "annotator", pa.string()),
    ("assignment__stimulus_id", "stimulus_id", pa.int64()),
)
# Read once per stimulus (hundreds of labels each).
_STIMULUS_FIELDS: tuple[tuple[str, str, pa.DataType], ...] = (
    ("pk", "id", pa.int64()),
    ("cell", "intervention", pa.string()),
    ("treatment_text", "treatment", pa.string()),
    ("details_text", "details", pa.string()),
    ("provenance", "provenance", pa.string()),
    ("is_attention_check", "is_attention_check", pa.bool_()),
    ("attention_answer", "attention_answer", pa.string()),
    ("prompt__text", "prompt", pa.string()),
    ("control__text", "control", pa.string()),
    ("treated__text", "treated", pa.string()),
    ("validation_status", "validation_status", pa.string()),
    ("validation_n", "validation_n", pa.int64()),
    ("validation_identified", "validation_identified", pa.int64()),
    ("validation_same_meaning", "validation_same_meaning", pa.int64()),
)


def _schema(fields: tuple[tuple[str, str, pa.DataType], ...]) -> pa.Schema:
    return pa.schema([(name, type_) for _, name, type_ in fields])


def _table(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
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

    def see_propensity(self, designs: pa.ChunkedArray, propensity: pa.ChunkedArray) -> None:
        # [count, sum, min, max] per design: a fixed size whatever the number of labels.
        # A batch has one design or a few: numpy per design, not a group-by per batch.
        encoded = pc.dictionary_encode(designs.combine_chunks())
        codes, p = encoded.indices.to_numpy(), propensity.to_numpy()
        for code, design in enumerate(encoded.dictionary.to_pylist()):
            mine = p[codes == code]
            lo, hi = float(mine.min()), float(mine.max())
            s = self.propensity.setdefault(design, [0, 0.0, lo, hi])
            s[0] += len(mine)
            s[1] += float(mine.sum())
            s[2] = min(s[2], lo)
            s[3] = max(s[3], hi)

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


def _per_combination(
    func: Callable[..., float | bool | None],
    table: pa.Table,
    names: tuple[str, ...],
    type_: pa.DataType,
) -> pa.Array:
    """``func`` of every row's values of the columns ``names`` (passed by those names;
    ``answer`` is the attention answer), called once per distinct combination: the rules
    (a label's outcome, an attention check's verdict) keep their one Python definition
    and still cost nothing per row."""
    codes, dictionaries = [], []
    for name in names:
        column = table["attention_answer" if name == "answer" else name]
        encoded = pc.dictionary_encode(column.combine_chunks())
        codes.append(encoded.indices.to_numpy(zero_copy_only=False))
        dictionaries.append(encoded.dictionary.to_pylist())
    if table.num_rows == 0:
        return pa.array([], type_)
    shape = [len(d) for d in dictionaries]
    distinct, inverse = np.unique(np.ravel_multi_index(codes, shape), return_inverse=True)
    values = [
        func(**{n: d[i] for n, d, i in zip(names, dictionaries, combination, strict=True)})
        for combination in zip(*np.unravel_index(distinct, shape), strict=True)
    ]
    return pa.array(values, type_).take(pa.array(inverse))


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


class _CopyStream(io.RawIOBase):
    """The bytes of a PostgreSQL ``COPY ... TO STDOUT`` as a readable file, for Arrow's
    CSV reader."""

    def __init__(self, copy) -> None:
        self._copy, self._rest = copy, memoryview(b"")

    def readable(self) -> bool:
        return True

    def empty(self) -> bool:
        """Whether the COPY sent no row at all (Arrow refuses an empty CSV)."""
        if not self._rest:
            self._rest = memoryview(self._copy.read())
        return not self._rest

    def readinto(self, buffer) -> int:
        # COPY hands over a row at a time; Arrow takes what one read returns as a
        # block, so the buffer is filled up to its size.
        filled, size = 0, len(buffer)
        while filled < size:
            if not self._rest:
                self._rest = memoryview(self._copy.read())
                if not self._rest:
                    break
            n = min(size - filled, len(self._rest))
            buffer[filled : filled + n] = self._rest[:n]
            self._rest = self._rest[n:]
            filled += n
        return filled


def _batches_copied(rows: QuerySet, schema: pa.Schema) -> Iterator[pa.Table]:
    """PostgreSQL: the query's rows through COPY as CSV, parsed by Arrow in blocks of
    512 kB (some 3,600 labels): no Python object per value, and the database computes
    the next rows while this process shapes the last ones. At 1,000,000 labels, blocks
    of 1 MB peaked 190 MB higher; blocks of 256 kB were slower. Parsed in this thread:
    Arrow's thread pool bought nothing here but threads.

    Sorting is switched off for the query: the labels then come in id order from the
    (study, id) index as they are joined, instead of the planner's hash joins and a sort
    of every label (on disk past work_mem) before the first row, which left this
    process idle for 0.5 s at 200,000 labels."""
    sql, params = rows.query.sql_with_params()
    types = {f.name: f.type for f in schema}
    # A failure rolls the setting back with the savepoint; a finished COPY resets it,
    # for a caller whose transaction goes on (a test's).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            stream = _CopyStream(copy)
            if not stream.empty():
                reader = pa_csv.open_csv(
                    stream,
                    read_options=pa_csv.ReadOptions(
                        column_names=schema.names, block_size=1 << 19, use_threads=False
                    ),
                    parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                    # COPY writes NULL as nothing and an empty text as "".
                    convert_options=pa_csv.ConvertOptions(
                        column_types=types,
                        true_values=["t"],
                        false_values=["f"],
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                    ),
                )
                for batch in reader:
                    yield pa.Table.from_batches([batch], schema=schema)
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")


def _batches_fetched(rows: QuerySet, schema: pa.Schema) -> Iterator[pa.Table]:
    """Other databases (SQLite): the rows through the ORM, CHUNK at a time."""
    it = rows.iterator(chunk_size=CHUNK)
    while chunk := list(islice(it, CHUNK)):
        yield _table(chunk, schema)


class _ById:
    """Columns kept per id (a stimulus's texts, an annotator's covariates), read before
    the labels: the labels' COPY holds the connection until its last row. A batch takes
    its rows by id; an id without a row takes empty values. With ``shared``, text
    columns come as dictionary arrays over the kept column: each label then holds an
    index, not a copy of an answer (hundreds of labels share one)."""

    def __init__(self, table: pa.Table, shared: bool = False):
        self._table = table.combine_chunks()
        self._ids = pa.array(table["id"].to_numpy(), pa.int64())
        self._shared = shared

    def take(self, ids: pa.ChunkedArray) -> pa.Table:
        where = pc.index_in(ids, value_set=self._ids).combine_chunks()
        table = self._table.drop_columns(["id"])
        if not self._shared:
            return table.take(where)
        return pa.table(
            {
                name: pa.DictionaryArray.from_arrays(where, column.chunk(0))
                if pa.types.is_string(column.type)
                else column.take(where)
                for name, column in zip(table.column_names, table.columns, strict=True)
            }
        )


def _stimuli(study: Study) -> _ById:
    """Every stimulus the study assigned, read once (hundreds of labels each)."""
    rows = (
        Stimulus.objects.filter(pk__in=Assignment.objects.filter(study=study).values("stimulus_id"))
        .annotate(
            treatment_text=Cast("treatment", TextField()),
            details_text=Cast("details", TextField()),
        )
        .values_list(*(f for f, _, _ in _STIMULUS_FIELDS))
    )
    return _ById(_table(list(rows), _schema(_STIMULUS_FIELDS)), shared=True)


def _covariates(study: Study) -> _ById:
    """The covariates of every annotator of the study who answered its questionnaire, as
    JSON text (tens of labels each)."""
    rows = CovariateResponse.objects.filter(
        schema_id=study.covariate_schema_id,
        annotator_id__in=Enrollment.objects.filter(study=study).values("annotator_id"),
    ).values_list("annotator_id", Cast("answers", TextField()))
    return _ById(_table(list(rows), pa.schema([("id", pa.int64()), ("covariates", pa.string())])))


def label_tables(*, study: Study, filters: Filters, counts: Counts) -> Iterator[pa.Table]:
    """Every current label of the study that passes ``filters``, in label order, as Arrow
    tables of a few thousand labels: the label's columns (_LABEL_FIELDS), its stimulus's
    (_STIMULUS_FIELDS), the annotator's covariates, its outcome ``y`` under the study's
    settings and ``attention_passed``; ``counts`` is filled as it goes."""
    excluded: list[int] = []
    if filters.min_attention_share is not None:
        excluded = sorted(
            low_quality_annotators(study=study, min_share=filters.min_attention_share)
        )
        counts.low_quality_annotators = len(excluded)
    rows = (
        _current(study)
        .annotate(
            labelled_at_text=IsoUtc(F("created_at")),
            served_at_text=IsoUtc(F("assignment__served_at")),
        )
        .order_by("pk")
        .values_list(*(f for f, _, _ in _LABEL_FIELDS))
    )
    batches = _batches_copied if connection.vendor == "postgresql" else _batches_fetched
    stimuli, covariates = _stimuli(study), _covariates(study)
    outcome = partial(label_outcome, ties=study.ties, strength_mode=study.strength)
    for labels in batches(rows, _schema(_LABEL_FIELDS)):
        table = pa.Table.from_arrays(
            labels.columns + stimuli.take(labels["stimulus_id"]).columns,
            names=labels.column_names + [n for _, n, _ in _STIMULUS_FIELDS[1:]],
        ).append_column("covariates", covariates.take(labels["annotator_id"])["covariates"])
        y = _per_combination(
            outcome, table, ("choice", "strength", "treated_on_left"), pa.float64()
        )
        passed = _per_combination(
            _passed, table, ("choice", "treated_on_left", "answer"), pa.bool_()
        )
        is_check = table["is_attention_check"]
        passed = pc.if_else(is_check, passed, pa.scalar(None, pa.bool_()))
        table = table.append_column("y", y).append_column("attention_passed", passed)

        keep = _keep(table, filters, excluded, counts)
        table = table.filter(keep)
        counts.ties_left_out_by_study += table["y"].null_count
        counts.exported += table.num_rows
        counts.see_propensity(table["design"], table["propensity"])
        yield table


def _keep(table: pa.Table, filters: Filters, excluded: list[int], counts: Counts) -> np.ndarray:
    """Which labels of a batch pass the filters, in the order the counts report them: a
    label left out counts under the first filter that leaves it out."""

    def mask(values) -> np.ndarray:
        return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), bool)

    counts.labels += table.num_rows
    keep = np.ones(table.num_rows, bool)
    tie = mask(pc.equal(table["choice"], Label.Choice.TIE))
    counts.ties += int(tie.sum())
    if filters.exclude_ties:
        counts.ties_filtered += int(tie.sum())
        keep &= ~tie
    if excluded:
        low = keep & mask(pc.is_in(table["annotator_id"], pa.array(excluded, pa.int64())))
        counts.low_quality_labels_filtered += int(low.sum())
        keep &= ~low
    if filters.exclude_attention_checks:
        check = keep & mask(table["is_attention_check"])
        counts.attention_checks_filtered += int(check.sum())
        keep &= ~check
    if filters.exclude_attention_failures:
        failed = keep & mask(pc.invert(table["attention_passed"]))
        counts.attention_failures_filtered += int(failed.sum())
        keep &= ~failed
    return keep


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
