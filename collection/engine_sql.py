"""The annotator hot path in plain SQL: the rows a draw or a label reads and writes.

Every next-pair and label request runs these statements, with hundreds of annotators at
once. Compiling an ORM query costs several times executing it (0.5-1.7 ms against
0.1 ms for the same statement, measured in-process on PostgreSQL), so the statements are
written out once here and the values still go through each field's own conversion
(``get_db_prep_save``, ``from_db_value``). Each statement runs on PostgreSQL and on
SQLite; row locks are added where the database has them (SQLite's IMMEDIATE
transactions serialise writers instead).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from annotators.models import CovariateResponse
from collection.models import Assignment, Enrollment, PracticePair, Study, Webhook

M = TypeVar("M", bound=models.Model)

_ENROLLMENT, _STUDY = Enrollment._meta.db_table, Study._meta.db_table
_ASSIGNMENT, _WEBHOOK = Assignment._meta.db_table, Webhook._meta.db_table


def locking(of: str = "") -> str:
    """`` FOR UPDATE`` (of the table alias ``of`` where supported), or nothing on SQLite."""
    if not connection.features.has_select_for_update:
        return ""
    if of and connection.features.has_select_for_update_of:
        return f" FOR UPDATE OF {of}"
    return " FOR UPDATE"


def _column(field: models.Field) -> str:
    if not field.column:
        raise TypeError(f"{field} has no column")
    return connection.ops.quote_name(field.column)


def _concrete(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


Statement = tuple[str, list[Any]]


def _database() -> BaseDatabaseWrapper:
    # ``connection`` is a proxy that finds this thread's connection on every attribute
    # access; the functions below touch it once per field, so they look it up once.
    return connections[DEFAULT_DB_ALIAS]


def execute_batch(statements: Sequence[Statement]) -> list[list[tuple]]:
    """Run the statements in order and return each one's rows ([] for a write without
    RETURNING). On PostgreSQL they travel in one round trip (one Query message, each
    statement with its own snapshot, as if sent one by one): under the study's pool
    locks, every round trip is time that every other draw of the study waits."""
    results: list[list[tuple]] = []
    database = _database()
    with database.cursor() as cursor:
        if database.vendor != "postgresql" or len(statements) == 1:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else [])
            return results
        cursor.execute(
            "; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
        )
        while True:
            results.append(cursor.fetchall() if cursor.description else [])
            if not cursor.nextset():
                return results


@cache
def _insert_sql(
    model: type[models.Model], scalar: frozenset[str]
) -> tuple[str, list[models.Field], list[str]]:
    """The INSERT of one row with a ``({})`` slot for each column in ``scalar``; the
    fields in column order, and the ``scalar`` columns in that order."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    computed = [f.attname for f in fields if f.attname in scalar]
    marks = ", ".join("({})" if f.attname in scalar else "%s" for f in fields)
    columns = ", ".join(_column(f) for f in fields)
    returning = ", ".join(["id", *computed])
    sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks}) RETURNING {returning}"
    return sql, fields, computed


def row_insert(
    model: type[M],
    values: dict[str, Any],
    *,
    before: Sequence[Statement] = (),
    scalar: dict[str, Statement] | None = None,
) -> M:
    """Insert one row of ``model`` from attribute values; returns the instance with its
    new primary key. Values are converted by their fields, as the ORM would; fields left
    out take their defaults (``auto_now_add`` the current time, unless given: a judgement
    is stamped with the instant its checks ran). A column in ``scalar``
    takes the value of a one-row subquery instead, and the ``before`` statements run
    first, in the same round trip (``execute_batch``). No signals are sent (none of ours
    listens)."""
    scalar = scalar or {}
    instance = model(**values)
    template, fields, computed = _insert_sql(model, frozenset(scalar))
    database = _database()
    params: list[Any] = []
    for field in fields:
        if field.attname in scalar:
            params.extend(scalar[field.attname][1])
        else:
            given = getattr(field, "auto_now_add", False) and field.attname in values
            value = values[field.attname] if given else field.pre_save(instance, True)
            params.append(field.get_db_prep_save(value, database))
    sql = template.format(*(scalar[name][0] for name in computed))
    (row,) = execute_batch([*before, (sql, params)])[-1]
    instance.pk = row[0]
    for name, value in zip(computed, row[1:], strict=True):
        setattr(instance, name, value)
    instance._state.adding = False
    instance._state.db = database.alias
    return instance


def row_update_statement(model: type[models.Model], pk: int, values: dict[str, Any]) -> Statement:
    """The UPDATE of one row's columns by primary key, each value converted by its field."""
    fields = [_concrete(model, name) for name in values]
    sets = ", ".join(f"{_column(f)} = %s" for f in fields)
    database = _database()
    params = [f.get_db_prep_save(values[f.name], database) for f in fields]
    return f"UPDATE {model._meta.db_table} SET {sets} WHERE id = %s", [*params, pk]


def _from_db(model: type[M], fields: list[models.Field], values: tuple) -> M:
    """An instance from some of its columns (the others deferred), as the ORM builds it."""
    database = _database()
    converted = [
        f.from_db_value(v, None, database) if hasattr(f, "from_db_value") else v
        for f, v in zip(fields, values, strict=True)
    ]
    return model.from_db(database.alias, [f.attname for f in fields], converted)


# --- The draw ---------------------------------------------------------------------------

# What a draw needs of its study (attribute names); the instance built has the rest
# deferred.
STUDY_DRAW_FIELDS = [
    "id",
    "slug",
    "status",
    "kind",
    "design_name",
    "design_params",
    "order_scheme",
    "order_block_size",
    "replication_factor",
    "labels_per_annotator",
    "label_target",
    "attention_check_rate",
    "assignment_ttl_seconds",
    "covariate_schema_id",
    "completion_code",
    "seed",
]


@dataclass(frozen=True)
class Latest:
    pk: int
    sequence: int
    is_open: bool  # open and not expired


@dataclass(frozen=True)
class DrawContext:
    """The locked enrollment and what the draw reads with it, in one round trip."""

    study: Study
    annotator_id: int
    consented: bool
    ended: bool  # declined or returned: no more pairs
    questionnaire_done: bool
    practice_done: bool
    labels_done: int
    completed: bool
    # The last assignment. Every assignment has the study's TTL and a new one is drawn
    # only when none is open, so if any is open and unexpired it is this one.
    latest: Latest | None


@cache
def _draw_context_sql() -> tuple[str, str, list[models.Field]]:
    """The enrollment and last-assignment reads of a draw, built once per process (they
    run on every request for a pair), and the study fields the first one returns."""
    # In the model's column order, as Model.from_db takes them.
    fields = [f for f in Study._meta.concrete_fields if f.attname in STUDY_DRAW_FIELDS]
    study_columns = ", ".join(f"s.{_column(f)}" for f in fields)
    answers = CovariateResponse._meta.db_table
    practice = PracticePair._meta.db_table
    enrollment = (
        f"SELECT e.annotator_id, e.consented_at IS NOT NULL, e.labels_done, "
        f"e.completed_at IS NOT NULL, "
        f"e.declined_at IS NOT NULL OR e.returned_at IS NOT NULL, "
        f"s.covariate_schema_id IS NULL OR EXISTS ("
        f"SELECT 1 FROM {answers} r WHERE r.annotator_id = e.annotator_id "
        f"AND r.schema_id = s.covariate_schema_id), "
        f"e.practice_done_at IS NOT NULL OR NOT EXISTS ("
        f"SELECT 1 FROM {practice} p WHERE p.study_id = s.id), {study_columns} "
        f"FROM {_ENROLLMENT} e JOIN {_STUDY} s ON s.id = e.study_id WHERE e.id = %s"
        + locking(of="e")
    )
    latest = (
        f"SELECT id, sequence, state = %s AND expires_at > %s FROM {_ASSIGNMENT} "
        "WHERE enrollment_id = %s ORDER BY sequence DESC LIMIT 1"
    )
    return enrollment, latest, fields


def enrollment_locked_for_draw(enrollment_id: int, now: datetime) -> DrawContext | None:
    """Lock the enrollment row (its study is read, not locked), and read the study's
    rules, whether the annotator has answered its questionnaire and the enrollment's
    last assignment."""
    enrollment, latest, study_fields = _draw_context_sql()
    database = _database()
    rows, last = execute_batch(
        [
            (enrollment, [enrollment_id]),
            (
                latest,
                [
                    Assignment.State.OPEN,
                    database.ops.adapt_datetimefield_value(now),
                    enrollment_id,
                ],
            ),
        ]
    )
    if not rows:
        return None
    row = rows[0]
    annotator_id, consented, labels_done, completed, ended, questionnaire_done = row[:6]
    return DrawContext(
        study=_from_db(Study, study_fields, row[7:]),
        practice_done=bool(row[6]),
        annotator_id=annotator_id,
        consented=bool(consented),
        ended=bool(ended),
        questionnaire_done=bool(questionnaire_done),
        labels_done=labels_done,
        completed=bool(completed),
        latest=Latest(pk=last[0][0], sequence=last[0][1], is_open=bool(last[0][2]))
        if last
        else None,
    )


def lefts_in_block(enrollment_id: int, first_sequence: int) -> int:
    """How many of the enrollment's assignments from ``first_sequence`` on have the
    treated response on the left (permuted-block ordering)."""
    ((count,),) = execute_batch(
        [
            (
                f"SELECT COUNT(*) FROM {_ASSIGNMENT} WHERE enrollment_id = %s "
                "AND sequence >= %s AND treated_on_left = %s",
                [enrollment_id, first_sequence, True],
            )
        ]
    )[0]
    return count


# --- The label --------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentToLabel:
    study_id: int
    state: str
    expired: bool
    treated_on_left: bool
    design_name: str
    cell: str
    stratum: str
    stimulus_id: int


@dataclass(frozen=True)
class LabelContext:
    """The locked enrollment, its study's quota and the locked assignment, if it is the
    enrollment's."""

    labels_done: int
    completed: bool
    labels_per_annotator: int
    completion_code: str
    study_kind: str
    webhooks_active: bool  # whether the study has an active webhook to tell of the label
    assignment: AssignmentToLabel | None


def label_context_locked(
    enrollment_id: int, assignment_id: int, now: datetime
) -> LabelContext | None:
    """Lock the enrollment row, then the assignment row if it belongs to the enrollment
    (in that order, as the engine locks), in one round trip; None without the enrollment.
    Whether the study has an active webhook comes along, so a study without one (most)
    pays no query of its own for them."""
    enrollment, assignment = execute_batch(
        [
            (
                f"SELECT e.labels_done, e.completed_at IS NOT NULL, s.labels_per_annotator, "
                f"s.completion_code, s.kind, EXISTS (SELECT 1 FROM {_WEBHOOK} w "
                "WHERE w.study_id = e.study_id AND w.active) "
                f"FROM {_ENROLLMENT} e "
                f"JOIN {_STUDY} s ON s.id = e.study_id WHERE e.id = %s" + locking(of="e"),
                [enrollment_id],
            ),
            (
                "SELECT study_id, state, expires_at <= %s, treated_on_left, design_name, "
                f"cell, stratum, stimulus_id FROM {_ASSIGNMENT} "
                "WHERE id = %s AND enrollment_id = %s" + locking(),
                [connection.ops.adapt_datetimefield_value(now), assignment_id, enrollment_id],
            ),
        ]
    )
    if not enrollment:
        return None
    labels_done, completed, labels_per_annotator, completion_code, study_kind, hooks = enrollment[0]
    found = None
    if assignment:
        study_id, state, expired, treated_on_left, design_name, cell, stratum, stimulus_id = (
            assignment[0]
        )
        found = AssignmentToLabel(
            study_id=study_id,
            state=state,
            expired=bool(expired),
            treated_on_left=bool(treated_on_left),
            design_name=design_name,
            cell=cell,
            stratum=stratum,
            stimulus_id=stimulus_id,
        )
    return LabelContext(
        labels_done=labels_done,
        completed=bool(completed),
        labels_per_annotator=labels_per_annotator,
        completion_code=completion_code,
        study_kind=study_kind,
        webhooks_active=bool(hooks),
        assignment=found,
    )
