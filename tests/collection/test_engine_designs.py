"""The engine under each design, on the database: what it logs and what it keeps."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotators.models import CovariateResponse, CovariateSchema
from collection.models import Assignment, CellTally, Study
from collection.services import assignment_expire, assignment_next, study_slots_build
from collection.tasks import assignments_expire
from interventions.models import Stimulus
from tests.collection.helpers import attention_checks_make, pool_problems, submit
from tests.factories import enrollment_make, stimulus_set_make, study_make

QUESTIONS = [{"key": "age", "label": "Age", "type": "choice", "choices": ["young", "old"]}]


@pytest.fixture
def two_cells(db):
    return stimulus_set_make(prompts=10, directions=("longer", "shorter"))


def _run(study, annotators, stratum_of=None):
    for i in range(annotators):
        enrollment = enrollment_make(study)
        if stratum_of is not None:
            CovariateResponse.objects.create(
                annotator=enrollment.annotator,
                schema=study.covariate_schema,
                answers={"age": stratum_of(i)},
            )
        while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            submit(enrollment, a)


@pytest.mark.django_db
def test_least_labelled_first_fills_every_stimulus_before_any_gets_a_second(two_cells):
    study = study_make(stimulus_set=two_cells, design_name="least_labelled", labels_per_annotator=3)
    eligible = Stimulus.objects.filter(check_status="passed").count()
    for _ in range(eligible // 3 + 1):
        _run(study, 1)
        levels = Counter(Assignment.objects.values_list("stimulus_id", flat=True))
        if len(levels) < eligible:
            assert set(levels.values()) == {1}
    assert Assignment.objects.first().design_name == "least_labelled"
    assert pool_problems(study) == []


@pytest.mark.django_db
def test_stratified_design_balances_cells_within_each_stratum(two_cells):
    schema = CovariateSchema.objects.create(name="age", questions=QUESTIONS)
    study = study_make(
        stimulus_set=two_cells,
        design_name="stratified",
        design_params={"strata": ["age"]},
        schema=schema,
        labels_per_annotator=3,
        replication_factor=4,
    )
    _run(study, 6, stratum_of=lambda i: "young" if i % 3 else "old")
    for stratum in ("age=young", "age=old"):
        per_cell = Counter(
            Assignment.objects.filter(stratum=stratum).values_list("cell", flat=True)
        )
        assert len(per_cell) == 2 and max(per_cell.values()) - min(per_cell.values()) <= 1
        tallies = CellTally.objects.filter(study=study, stratum=stratum)
        assert {t.cell: t.assigned for t in tallies} == dict(per_cell)
    # The first draw of a stratum ties both cells: probability 1/2 times 1/|cell|.
    first = Assignment.objects.filter(stratum="age=old").order_by("pk").first()
    cell_size = Stimulus.objects.filter(cell=first.cell, check_status="passed").count()
    assert first.p_stimulus == pytest.approx(0.5 / cell_size)


@pytest.mark.django_db
def test_adaptive_design_logs_the_allocation_it_used(two_cells):
    study = study_make(stimulus_set=two_cells, design_name="neyman", labels_per_annotator=4)
    _run(study, 3)
    tallies = {t.cell: t for t in CellTally.objects.filter(study=study)}
    assert sum(t.labels for t in tallies.values()) == 12
    for a in Assignment.objects.filter(study=study):
        assert a.design_name == "neyman" and 0 < a.propensity <= 1
        assert a.propensity == pytest.approx(a.p_stimulus * a.p_order)
    # With no labels yet both cells share equally: the first draw's probability is
    # 1/2 x 1/|cell|.
    first = Assignment.objects.order_by("pk").first()
    cell_size = Stimulus.objects.filter(cell=first.cell, check_status="passed").count()
    assert first.p_stimulus == pytest.approx(0.5 / cell_size)


@pytest.mark.django_db
def test_attention_checks_are_mixed_in_at_the_rate_and_logged(stimulus_set):
    checks = attention_checks_make(stimulus_set, 3)
    study = study_make(stimulus_set=stimulus_set, attention_check_rate=0.5, labels_per_annotator=6)
    _run(study, 4)
    served = Assignment.objects.filter(is_attention_check=True)
    assert served.exists() and served.count() < Assignment.objects.count()
    assert {a.stimulus_id for a in served} <= {c.pk for c in checks}
    regular = Assignment.objects.filter(is_attention_check=False).first()
    assert regular.p_stimulus < 0.5
    for a in served:
        assert a.cell == "" and a.p_stimulus <= 0.5 / 1
    # Attention checks are outside k: they never fill a stimulus.
    assert pool_problems(study) == []


@pytest.mark.django_db
def test_permuted_blocks_balance_order_within_each_annotator(two_cells):
    study = study_make(
        stimulus_set=two_cells, order_scheme="block", order_block_size=4, labels_per_annotator=8
    )
    _run(study, 2)
    for enrollment in study.enrollments.all():
        orders = list(
            Assignment.objects.filter(enrollment=enrollment)
            .order_by("sequence")
            .values_list("treated_on_left", "p_order", "order_scheme")
        )
        assert len(orders) == 8 and {o[2] for o in orders} == {"block"}
        for block in (orders[:4], orders[4:]):
            assert sum(o[0] for o in block) == 2
            assert block[-1][1] == 1.0  # the last slot of a block is forced


@pytest.mark.django_db
def test_a_draw_reads_the_same_number_of_rows_whatever_the_pool_size(db):
    counts = []
    for prompts in (3, 12):
        study = study_make(stimulus_set=stimulus_set_make(prompts=prompts))
        study_slots_build(study=study)
        enrollment = enrollment_make(study)
        submit(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment)
        with CaptureQueriesContext(connection) as queries:
            assert assignment_next(enrollment_id=enrollment.pk).assignment is not None
        counts.append(len(queries))
        # No query reads from the stimulus table (a join by key is fine): the pool is read
        # through its slot index.
        sqls = [q["sql"] for q in queries.captured_queries]
        assert sqls and not any('FROM "interventions_stimulus"' in sql for sql in sqls)
    # Equal up to the one UPDATE that fills the hole, skipped when the drawn slot was last.
    assert abs(counts[0] - counts[1]) <= 1


@pytest.mark.django_db
def test_beat_task_returns_abandoned_assignments_and_keeps_the_pool_consistent(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, replication_factor=1)
    abandoned = [
        assignment_next(enrollment_id=enrollment_make(study).pk).assignment for _ in range(3)
    ]
    Assignment.objects.filter(pk__in=[a.pk for a in abandoned[:2]]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert assignments_expire() == 2
    assert assignment_expire() == 0  # nothing left to return
    states = dict(Assignment.objects.values_list("pk", "state"))
    assert [states[a.pk] for a in abandoned] == ["returned", "returned", "open"]
    assert pool_problems(study) == []


@pytest.mark.django_db
def test_pool_built_late_counts_assignments_already_served(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, replication_factor=2)
    enrollment = enrollment_make(study)
    submit(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment)
    from collection.models import SlotBucket, StimulusSlot

    StimulusSlot.objects.filter(study=study).delete()
    SlotBucket.objects.filter(study=study).delete()
    assert study_slots_build(study=study) == Stimulus.objects.filter(check_status="passed").count()
    assert study_slots_build(study=study) == 0
    assert pool_problems(study) == []
    assert Study.objects.get(pk=study.pk).status == "running"
