import pytest

from tests.factories import stimulus_set_make, study_make


@pytest.fixture
def stimulus_set(db):
    return stimulus_set_make()


@pytest.fixture
def study(stimulus_set):
    return study_make(stimulus_set=stimulus_set)
