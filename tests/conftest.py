import pytest
import redis
from django.conf import settings

from tests.factories import stimulus_set_make, study_make
from tests.services import redis_reachable


@pytest.fixture(scope="session", autouse=True)
def _fresh_redis_flags():
    """Study ids restart with each test database, so refresh flags and markers an earlier
    run left in the test Redis (they live up to a minute) would belong to this run's
    studies: start without them."""
    if redis_reachable():
        client = redis.Redis.from_url(settings.REDIS_URL)
        stale = list(client.scan_iter("counterpoint:*"))
        if stale:
            client.delete(*stale)


@pytest.fixture
def stimulus_set(db):
    return stimulus_set_make()


@pytest.fixture
def study(stimulus_set):
    return study_make(stimulus_set=stimulus_set)
