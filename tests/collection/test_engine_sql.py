"""The hot path's statements on PostgreSQL: prepared once per connection, then run by
name, with the same rows as unprepared."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from collection.engine_sql import execute_batch
from collection.selectors import pair_texts
from collection.services import assignment_next
from tests.collection.helpers import submit
from tests.factories import enrollment_make, stimulus_set_make, study_make
from tests.services import HOW_TO_RUN_SERVICES, require

# Each test starts a connection of its own, so none runs inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)

BATCH = [
    ("SELECT %s::int + %s", [40, 2]),
    ("SELECT count(*) FROM pg_class WHERE relname = %s", ["pg_class"]),
    ("SELECT 1 WHERE %s", [False]),
]


@pytest.fixture(autouse=True)
def _postgres():
    require(connection.vendor == "postgresql", "PostgreSQL", HOW_TO_RUN_SERVICES)


def _ours() -> dict[str, int]:
    """This connection's prepared statements: name -> executions with a generic plan."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, generic_plans FROM pg_prepared_statements "
            "WHERE name LIKE 'counterpoint%%'"
        )
        return dict(cursor.fetchall())


def test_statements_are_prepared_once_and_kept_to_a_generic_plan():
    connection.close()  # a fresh connection: nothing prepared on it yet
    first = execute_batch(BATCH)
    assert first == [[(42,)], [(1,)], []]
    assert len(_ours()) == 3
    for _ in range(9):
        assert execute_batch(BATCH) == first
    ours = _ours()
    assert len(ours) == 3  # not prepared again
    # PostgreSQL plans the first five executions for their values, then keeps a generic
    # plan: planning leaves the hot path.
    assert all(n >= 4 for n in ours.values()), ours


def test_the_same_text_with_other_parameter_types_is_a_statement_of_its_own():
    connection.close()
    assert execute_batch([("SELECT %s + 1", [5])]) == [[(6,)]]
    assert execute_batch([("SELECT %s + 1", [0.5])]) == [[(1.5,)]]
    assert len(_ours()) == 2


def test_a_statement_the_server_cannot_prepare_runs_as_it_is_in_the_same_transaction():
    connection.close()
    with transaction.atomic():
        # Nothing says what type the parameter is: PREPARE is refused, the query is not.
        assert execute_batch([("SELECT %s IS NULL", [None]), *BATCH]) == [
            [(True,)],
            [(42,)],
            [(1,)],
            [],
        ]
        assert execute_batch([("SELECT %s IS NULL", [None])]) == [[(True,)]]
    assert len(_ours()) == 3


def test_a_rolled_back_transaction_keeps_the_connections_statements():
    connection.close()
    try:
        with transaction.atomic():
            execute_batch(BATCH)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert execute_batch(BATCH) == [[(42,)], [(1,)], []]
    assert len(_ours()) == 3


def test_a_statement_that_fails_to_prepare_raises_and_leaves_the_connection_usable():
    connection.close()
    with pytest.raises(DatabaseError), transaction.atomic():
        execute_batch([("SELECT %s FROM no_such_table", [1])])
    assert execute_batch(BATCH) == [[(42,)], [(1,)], []]


def test_logged_queries_show_the_sql_and_nothing_is_prepared():
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert execute_batch(BATCH) == [[(42,)], [(1,)], []]
    assert "pg_class" in queries.captured_queries[-1]["sql"]
    assert _ours() == {}


def test_prepared_statements_can_be_switched_off(settings):
    settings.DB_PREPARED_STATEMENTS = False
    connection.close()
    assert execute_batch(BATCH) == [[(42,)], [(1,)], []]
    assert _ours() == {}


def test_every_statement_of_a_label_and_the_next_draw_runs_prepared():
    """The hot path's own statements: none falls back to being planned on every run (a
    parameter type missing from the declared ones would)."""
    study = study_make(stimulus_set=stimulus_set_make(prompts=6))
    enrollment = enrollment_make(study)
    connection.close()
    assignment = assignment_next(enrollment_id=enrollment.pk).assignment
    assert assignment is not None
    for _ in range(3):
        pair_texts(assignment=assignment)
        submit(enrollment, assignment, rationale="why", time_on_task_ms=900)
        assignment = assignment_next(enrollment_id=enrollment.pk).assignment
        assert assignment is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'counterpoint%%'"
        )
        ran = [row[0] for row in cursor.fetchall()]
    prepared = " ".join(ran)
    for table in (
        "collection_label",  # the label's INSERT
        "collection_assignment",  # the draw's INSERT and the lock of the labelled one
        "collection_slotbucket",  # the pool's locks
        "collection_enrollment",  # the enrollment's lock and count
        "interventions_prompt",  # the pair's texts
    ):
        assert table in prepared, table
    assert "INSERT INTO collection_label" in prepared
