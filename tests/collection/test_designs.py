import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from collection.designs import complete_randomisation, order_bernoulli, rng_for


@given(n=st.integers(1, 500), seed=st.integers(0, 2**32 - 1))
def test_complete_randomisation_is_in_range_and_reproducible(n, seed):
    a = complete_randomisation(n_candidates=n, rng=np.random.default_rng(seed))
    b = complete_randomisation(n_candidates=n, rng=np.random.default_rng(seed))
    assert a == b
    assert 0 <= a.index < n and a.probability == 1 / n


def test_logged_probabilities_match_frequencies():
    rng = np.random.default_rng(2026)
    n, draws = 7, 14_000
    picks = [complete_randomisation(n_candidates=n, rng=rng) for _ in range(draws)]
    observed = np.bincount([p.index for p in picks], minlength=n)
    # Each candidate's expected count is the sum of its logged probabilities.
    expected = np.full(n, sum(p.probability for p in picks))
    assert stats.chisquare(observed, expected).pvalue > 0.001
    lefts = sum(order_bernoulli(rng=rng).treated_on_left for _ in range(draws))
    assert stats.binomtest(lefts, draws, 0.5).pvalue > 0.001


def test_rng_for_is_keyed_by_study_enrollment_and_sequence():
    g1, key = rng_for(seed=1, enrollment_id=2, sequence=3)
    g2, _ = rng_for(seed=1, enrollment_id=2, sequence=3)
    g3, _ = rng_for(seed=1, enrollment_id=2, sequence=4)
    assert key == "1:2:3"
    assert g1.random() == g2.random() != g3.random()
