"""A refresh and a rebuild miss no label, whatever commits while they run.

Before each SQL statement of a refresh (then of a rebuild), in turn, another connection
commits a new label of the study. After the racing run and one more refresh, the stored
estimate must equal a recompute from every label, and until that refresh the study must
not be reported covered. Reading labels and present ids in separate READ COMMITTED
statements (the old refresh) loses a label at one of these points.
"""

import threading
import uuid

import numpy as np
import pytest
from django.db import connection, connections

from analysis.models import Estimate, RefreshState
from analysis.selectors import labels_uncovered
from analysis.services import study_refresh, study_sums_rebuild
from collection.models import Label
from collection.services import assignment_next, label_submit
from tests.analysis.helpers import from_scratch, label_study
from tests.factories import enrollment_make, stimulus_set_make, study_make
from tests.services import require_postgres_and_redis

pytestmark = pytest.mark.services


class CommitBefore:
    """An execute wrapper that commits one label on another connection before the k-th
    statement this connection runs (k = None: only count the statements)."""

    def __init__(self, k: int | None, commit):
        self.k, self.commit, self.seen = k, commit, 0

    def __call__(self, execute, sql, params, many, context):
        if self.seen == self.k:
            worker = threading.Thread(target=self.commit)
            worker.start()
            worker.join()
        self.seen += 1
        return execute(sql, params, many, context)


def _labeller(study, open_assignments: list):
    """Commit one label of the study from another thread (its own connection)."""

    def commit() -> None:
        enrollment, assignment = open_assignments.pop()
        try:
            label_submit(
                enrollment_id=enrollment.pk,
                assignment_id=assignment.pk,
                submission_id=uuid.uuid4(),
                choice="left",
                strength=2,
            )
        finally:
            connections.close_all()

    return commit


def _matches_scratch(study) -> bool:
    latest = Estimate.objects.filter(study=study, estimand="amce", subgroup="all").latest("pk")
    fit = from_scratch(study, latest.intervention.name)
    return latest.n_labels == fit.n and latest.point == pytest.approx(fit.amce.point, rel=1e-10)


@pytest.mark.parametrize("run", [study_refresh, study_sums_rebuild], ids=["refresh", "rebuild"])
def test_a_label_committed_before_any_statement_is_folded(transactional_db, run):
    require_postgres_and_redis()
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=30), replication_factor=30, labels_per_annotator=1
    )
    label_study(study, annotators=4, rng=np.random.default_rng(0))
    study_refresh(study_id=study.pk)

    def draw():
        enrollment = enrollment_make(study)
        return enrollment, assignment_next(enrollment_id=enrollment.pk).assignment

    # Count the statements of a run that has work to do.
    open_assignments = [draw()]
    _labeller(study, open_assignments)()
    counter = CommitBefore(None, None)
    with connection.execute_wrapper(counter):
        run(study_id=study.pk)
    assert counter.seen > 5

    for k in range(counter.seen):
        open_assignments = [draw()]
        _labeller(study, open_assignments)()  # work for the run
        open_assignments.append(draw())  # the label that races it
        with connection.execute_wrapper(CommitBefore(k, _labeller(study, open_assignments))):
            run(study_id=study.pk)
        assert not open_assignments, f"statement {k}: the racing label was not committed"
        state = RefreshState.objects.get(study=study)
        newest = Label.objects.filter(study=study).latest("pk").pk
        if not (state.watermark >= newest and _matches_scratch(study)):
            # Not folded yet: the study must not pass for covered.
            assert labels_uncovered(state=state), f"statement {k}: a label was dropped"
        study_refresh(study_id=study.pk)
        assert _matches_scratch(study), f"statement {k}: stored estimate misses a label"
