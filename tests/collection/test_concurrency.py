"""Hundreds of annotators at once on PostgreSQL: the engine's invariants hold."""

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from collection.errors import LabelRejected
from collection.models import Assignment, Label
from collection.services import assignment_expire, assignment_next, label_submit
from tests.collection.helpers import pool_problems
from tests.factories import enrollment_make, stimulus_set_make, study_make
from tests.services import require_postgres_and_redis

ANNOTATORS = 120
K = 2
PER_ANNOTATOR = 4
# PostgreSQL allows 100 connections and other test runs share it: at most this many
# threads talk to the database at one moment; all 120 stay in flight throughout.
DB_SLOTS = threading.BoundedSemaphore(30)


def _db(call, *args, **kwargs):
    with DB_SLOTS:
        try:
            return call(*args, **kwargs)
        finally:
            connection.close()


class Record:
    def __init__(self):
        self.lock = threading.Lock()
        self.stored: dict[uuid.UUID, int] = {}  # submission id -> label id
        self.replays: list[tuple[uuid.UUID, int]] = []
        self.rejected: Counter = Counter()
        self.no_work = 0
        self.errors: list[str] = []

    def add(self, **kwargs):
        with self.lock:
            for key, value in kwargs.items():
                if key == "stored":
                    self.stored[value[0]] = value[1]
                elif key == "replay":
                    self.replays.append(value)
                elif key == "rejected":
                    self.rejected[value] += 1
                else:
                    self.no_work += 1


def _annotator(study, seed: int, record: Record) -> None:
    try:
        _annotate(study, seed, record)
    except Exception as exc:  # collected and asserted on in the main thread
        with record.lock:
            record.errors.append(repr(exc))


def _annotate(study, seed: int, record: Record) -> None:
    rng = random.Random(seed)
    enrollment = _db(enrollment_make, study)
    for _ in range(PER_ANNOTATOR + 1):
        assignment = _db(assignment_next, enrollment_id=enrollment.pk).assignment
        if assignment is None:
            record.add(no_work=True)
            return
        if rng.random() < 0.1:
            return  # abandons the tab: the assignment expires and returns to the pool
        key = uuid.uuid4()
        submit = dict(
            enrollment_id=enrollment.pk,
            assignment_id=assignment.pk,
            submission_id=key,
            choice=rng.choice(["left", "right", "tie"]),
            strength=rng.randint(1, 3),
        )
        try:
            if rng.random() < 0.2:
                # A double click: the same submission sent twice at once.
                with ThreadPoolExecutor(2) as pool:
                    futures = [pool.submit(_db, label_submit, **submit) for _ in range(2)]
                    results = [f.result() for f in futures]
            else:
                results = [_db(label_submit, **submit)]
        except LabelRejected as exc:
            record.add(rejected=str(exc).split(";")[0])
            continue
        fresh = [r for r in results if not r.replayed]
        assert len(fresh) == 1, "exactly one of the concurrent submissions stores the label"
        record.add(stored=(key, fresh[0].label.pk))
        if rng.random() < 0.2:
            replay = _db(label_submit, **{**submit, "choice": "tie"})
            record.add(replay=(key, replay.label.pk))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_hundreds_of_annotators_in_parallel_keep_every_invariant():
    require_postgres_and_redis()
    stimulus_set = stimulus_set_make(prompts=40, directions=("longer", "shorter"))
    study = study_make(
        stimulus_set=stimulus_set,
        replication_factor=K,
        labels_per_annotator=PER_ANNOTATOR,
        assignment_ttl_seconds=3,
        design_name="least_labelled",
    )
    record = Record()
    threads = [
        threading.Thread(target=_annotator, args=(study, seed, record))
        for seed in range(ANNOTATORS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    connection.close()
    assert record.errors == []

    # Zero stimuli over k (live = labelled or in flight), zero repeats.
    live = Counter(
        Assignment.objects.filter(study=study)
        .exclude(state=Assignment.State.RETURNED)
        .values_list("stimulus_id", flat=True)
    )
    assert live and max(live.values()) <= K
    pairs = list(Assignment.objects.values_list("annotator_id", "stimulus_id"))
    assert len(pairs) == len(set(pairs))
    # Zero lost or double labels: exactly the submissions that were stored, once each.
    labels = {
        label.submission_id: label
        for label in Label.objects.filter(study=study).select_related("assignment")
    }
    assert set(labels) == set(record.stored)
    assert {k: v.pk for k, v in labels.items()} == record.stored
    assert all(label_id == record.stored[key] for key, label_id in record.replays)
    assert len(record.replays) > 0
    per_assignment = Counter(label.assignment_id for label in labels.values())
    assert max(per_assignment.values()) == 1
    # Every label's assignment is consistent with it.
    for label in labels.values():
        a = label.assignment
        assert a.state == Assignment.State.LABELLED and a.study_id == label.study_id
        assert label.created_at <= a.expires_at
        expected = (
            0.5 if label.choice == "tie" else float((label.choice == "left") == a.treated_on_left)
        )
        assert label.outcome == expected
    assert Assignment.objects.filter(state=Assignment.State.LABELLED).count() == len(labels)
    # Abandoned assignments expire and return; the pool table then matches the rows.
    time.sleep(3.1)
    assignment_expire(study_id=study.pk)
    assert not Assignment.objects.filter(study=study, state=Assignment.State.OPEN).exists()
    assert pool_problems(study) == []
    # "No more work" meant none: demand (480) exceeds capacity, so some were told so,
    # and every stimulus is now at k labels or free again for a new annotator.
    assert record.no_work > 0
    labelled = Counter(label.assignment.stimulus_id for label in labels.values())
    fresh = enrollment_make(study)
    has_room = any(labelled[s] < K for s in live) or len(labelled) < len(live)
    assert (assignment_next(enrollment_id=fresh.pk).assignment is not None) == has_room
    connection.close()
