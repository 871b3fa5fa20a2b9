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
from functools import cache, lru_cache
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    ProgrammingError,
    connection,
    connections,
    models,
    transaction,
)
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
    locks, every round trip is time that every other draw of the study waits. There each
    statement is also prepared once per connection and then run by name (``_prepared``):
    planning had been a third of PostgreSQL's CPU per label."""
    results: list[list[tuple]] = []
    database = _database()
    with database.cursor() as cursor:
        if database.vendor != "postgresql":
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall() if cursor.description else [])
            return results
        statements = _prepared(database, cursor, statements)
        cursor.execute(
            "; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
        )
        while True:
            results.append(cursor.fetchall() if cursor.description else [])
            if not cursor.nextset():
                return results


# The PostgreSQL type a parameter is declared with when its statement is prepared, by
# its Python type (after the field's conversion); "unknown" lets the server infer it
# from where it stands, as for a literal. A statement with a parameter of any other
# type runs unprepared.
_DECLARED = [
    (bool, "boolean"),  # before int: a bool is an int
    (int, "bigint"),
    (float, "double precision"),
    (datetime, "timestamptz"),
    (UUID, "uuid"),
    (str, "unknown"),
    (type(None), "unknown"),
]
# At most this many statements are prepared per connection; the hot path has about 15.
PREPARED_MAX = 64


@dataclass
class _Names:
    connection: object  # the psycopg connection the statements are prepared on
    names: dict[tuple[str, tuple[str, ...]], str]  # -> its EXECUTE, "" if refused
    made: int = 0  # names are never reused: a failed PREPARE may have left one behind


def _prepared(
    database: BaseDatabaseWrapper, cursor: Any, statements: Sequence[Statement]
) -> list[Statement]:
    """The statements as EXECUTEs of server-side prepared statements, preparing the ones
    this connection has not seen. A prepared statement is planned a few times, then
    PostgreSQL keeps a generic plan. Django's cursors bind parameters in the client,
    which rules out the protocol's own prepared statements; PREPARE is plain SQL.

    Each is prepared on its own, in a savepoint, the first time the connection meets it:
    one the server cannot prepare (a parameter whose type nothing around it says) is
    remembered and runs as it is, as are statements with parameters of types not in
    ``_DECLARED``. Nothing is prepared when the connection logs queries (DEBUG, tests
    counting queries: the log shows the SQL, not a name) or with
    ``DB_PREPARED_STATEMENTS`` off (behind a pooler in transaction mode, whose server
    connections change under a client)."""
    if not settings.DB_PREPARED_STATEMENTS or database.queries_logged:
        return list(statements)
    known: _Names | None = getattr(database, "_counterpoint_prepared", None)
    if known is None or known.connection is not database.connection:
        known = _Names(database.connection, {})
        database._counterpoint_prepared = known  # type: ignore[attr-defined]
    out = []
    for sql, params in statements:
        declared = _declared(params)
        numbered = _numbered(sql)
        if declared is None or numbered is None or numbered[1] != len(params):
            out.append((sql, params))
            continue
        key = (sql, declared)
        if key not in known.names and len(known.names) < PREPARED_MAX:
            known.names[key] = _prepare(database, cursor, known, numbered[0], declared)
        execute = known.names.get(key)
        out.append((execute, params) if execute else (sql, params))
    return out


@lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, int] | None:
    """The statement with its ``%s`` placeholders numbered ``$1``, ``$2``... as PREPARE
    takes them, and how many there are; None if it holds any other ``%`` (parsed once per
    text: the hot path runs the same few statements)."""
    parts = sql.split("%s")
    if "%" in "".join(parts):
        return None
    numbered = "".join(f"{part}${k}" for k, part in enumerate(parts[:-1], 1)) + parts[-1]
    return numbered, len(parts) - 1


def _prepare(
    database: BaseDatabaseWrapper,
    cursor: Any,
    known: _Names,
    numbered: str,
    declared: tuple[str, ...],
) -> str:
    """PREPARE the statement; the EXECUTE that runs it, or "" if the server refused."""
    known.made += 1  # a name is never reused: PREPARE outlives a rolled-back transaction
    name = f"counterpoint_{known.made}"
    types = f"({', '.join(declared)})" if declared else ""
    try:
        with transaction.atomic(using=database.alias):
            cursor.execute(f"PREPARE {name}{types} AS {numbered}")
    except ProgrammingError:
        return ""
    return f"EXECUTE {name}({', '.join(['%s'] * len(declared))})" if declared else f"EXECUTE {name}"


def _declared(params: Sequence[Any]) -> tuple[str, ...] | None:
    declared = []
    for value in params:
        for kind, name in _DECLARED:
            if isinstance(value, kind):
                declared.append(name)
                break
        else:
            return None
    return tuple(declared)


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
