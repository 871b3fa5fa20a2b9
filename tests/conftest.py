import os
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.factories import stimulus_set_make, study_make
from tests.services import redis_reachable

# A user's clone has no ../shared: a test that reads it passes here and fails there.
SHARED = str(Path(__file__).resolve().parents[2] / "shared") + os.sep
WATCHED = {"open", "os.listdir", "os.scandir", "glob.glob"}


def _refuse_shared(event: str, args: tuple) -> None:
    if event not in WATCHED or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if (path + os.sep).startswith(SHARED):
        raise PermissionError(
            f"a test read {path}: tests read nothing outside the repository (a user's "
            "clone has no ../shared); ship the data under tests/data, or measure it in "
            "tests/benchmarks"
        )


sys.addaudithook(_refuse_shared)


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
