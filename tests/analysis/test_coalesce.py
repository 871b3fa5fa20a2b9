import numpy as np
import pytest

from analysis.coalesce import lock_backend, refresh_lock
from analysis.models import RefreshRun
from analysis.services import study_refresh_request
from tests.analysis.helpers import label_study
from tests.factories import study_make
from tests.services import HOW_TO_RUN_SERVICES, redis_reachable, require


@pytest.fixture(params=["database", "redis"])
def backend(request, settings):
    if request.param == "redis":
        require(redis_reachable(), "Redis", HOW_TO_RUN_SERVICES)
    else:
        settings.REDIS_URL = ""
    assert lock_backend() == request.param
    return request.param


@pytest.mark.django_db
def test_one_refresh_in_flight_per_study_and_the_queued_one_covers_the_burst(backend, study):
    label_study(study, annotators=3, rng=np.random.default_rng(0))
    with refresh_lock(study_id=study.pk) as held:
        assert held
        # While a refresh is in flight, the first request is queued behind it (retried)...
        assert study_refresh_request(study_id=study.pk) == "busy"
        # ...and the others are folded into that one.
        assert study_refresh_request(study_id=study.pk) == "coalesced"
        assert study_refresh_request(study_id=study.pk) == "coalesced"
        # The queued one keeps waiting while the lock is held.
        assert study_refresh_request(study_id=study.pk, queued=True) == "busy"
        with refresh_lock(study_id=study.pk) as second:
            assert not second
    assert not RefreshRun.objects.exists()
    # The queued one folds the whole burst, and a later request finds it covered.
    assert study_refresh_request(study_id=study.pk, queued=True) == "refreshed"
    assert study_refresh_request(study_id=study.pk) == "covered"
    (run,) = RefreshRun.objects.all()
    assert run.labels_folded == 15
    # The queued flag was cleared: the next burst during a refresh queues one again.
    label_study(study, annotators=1, rng=np.random.default_rng(1))
    with refresh_lock(study_id=study.pk):
        assert study_refresh_request(study_id=study.pk) == "busy"


@pytest.mark.django_db
def test_the_lock_of_one_study_does_not_block_another(backend, study):
    other_study = study_make(stimulus_set=study.stimulus_sets.first(), slug="other")
    with refresh_lock(study_id=study.pk) as held, refresh_lock(study_id=other_study.pk) as other:
        assert held and other
    # Released on exit: the study can be locked again.
    with refresh_lock(study_id=study.pk) as again:
        assert again


@pytest.mark.django_db(transaction=True)
def test_the_lease_outlives_its_term_while_the_owner_runs_and_frees_on_exit(
    backend, study, monkeypatch
):
    import time

    from analysis import coalesce

    monkeypatch.setattr(coalesce, "LEASE_SECONDS", 1.0)
    monkeypatch.setattr(coalesce, "HEARTBEAT_SECONDS", 0.2)
    with refresh_lock(study_id=study.pk) as held:
        assert held
        holder = coalesce.lease_holder(study_id=study.pk)
        deadline = time.monotonic() + 3.0  # three terms of the lease
        while time.monotonic() < deadline:
            with refresh_lock(study_id=study.pk) as rival:
                assert not rival
            assert coalesce.lease_holder(study_id=study.pk) == holder
            time.sleep(0.1)
    assert coalesce.lease_holder(study_id=study.pk) is None
    with refresh_lock(study_id=study.pk) as again:
        assert again


def test_a_queued_refresh_outwaits_a_dead_workers_lease_and_its_retries_are_bounded():
    from analysis.coalesce import LEASE_SECONDS, QUEUED_SECONDS
    from analysis.tasks import BUSY_RETRIES, BUSY_RETRY_MAX_SECONDS, busy_countdown

    waits = [busy_countdown(r) for r in range(BUSY_RETRIES)]
    assert waits == sorted(waits) and max(waits) == BUSY_RETRY_MAX_SECONDS
    assert sum(waits) > 4 * LEASE_SECONDS
    # Each retry renews the queued flag before it could lapse.
    assert BUSY_RETRY_MAX_SECONDS < QUEUED_SECONDS
