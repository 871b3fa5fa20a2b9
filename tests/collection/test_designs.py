"""Property tests of the pure randomisation designs."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from collection import designs
from collection.designs import complete_randomisation, order_bernoulli, rng_for

matrices = st.integers(1, 4).flatmap(
    lambda cells: st.integers(1, 4).flatmap(
        lambda levels: st.lists(
            st.lists(st.integers(0, 6), min_size=levels, max_size=levels),
            min_size=cells,
            max_size=cells,
        ).filter(lambda m: sum(map(sum, m)) > 0)
    )
)


def _design(name, matrix, rng, extra):
    if name == "complete":
        return designs.design_complete(available=matrix, rng=rng)
    if name == "least_labelled":
        return designs.design_least_labelled(available=matrix, rng=rng)
    if name == "stratified":
        return designs.design_stratified(available=matrix, stratum_counts=extra["counts"], rng=rng)
    return designs.design_neyman(available=matrix, n=extra["n"], sd=extra["sd"], rng=rng)


DESIGNS = ["complete", "least_labelled", "stratified", "neyman"]


@given(n=st.integers(1, 500), seed=st.integers(0, 2**32 - 1))
def test_complete_randomisation_is_in_range_and_reproducible(n, seed):
    a = complete_randomisation(n_candidates=n, rng=np.random.default_rng(seed))
    b = complete_randomisation(n_candidates=n, rng=np.random.default_rng(seed))
    assert a == b
    assert 0 <= a.index < n and a.probability == 1 / n


@settings(max_examples=60, deadline=None)
@given(matrix=matrices, seed=st.integers(0, 2**32 - 1), name=st.sampled_from(DESIGNS))
def test_every_design_draws_an_available_stimulus_reproducibly(matrix, seed, name):
    cells = len(matrix)
    extra = {
        "counts": [c % 3 for c in range(cells)],
        "n": [5] * cells,
        "sd": [0.1 * (c + 1) for c in range(cells)],
    }
    a = _design(name, matrix, np.random.default_rng(seed), extra)
    b = _design(name, matrix, np.random.default_rng(seed), extra)
    assert a == b
    assert 0 <= a.index < matrix[a.cell][a.level]
    assert 0 < a.probability <= 1
    if name == "least_labelled":
        lowest = min(lv for lv in range(len(matrix[0])) if any(row[lv] for row in matrix))
        assert a.level == lowest


# Stimuli each design can draw from the matrix below: least-labelled only level 0 (4),
# stratified only the cells with the fewest assignments in the stratum (cells 1, 2: 7).
SUPPORT = {"complete": 13, "least_labelled": 4, "stratified": 7, "neyman": 13}


@pytest.mark.parametrize("name", DESIGNS)
def test_logged_probabilities_match_frequencies(name):
    """Chi-square of the observed outcome counts against the sums of logged
    probabilities: the logged propensity is the true probability of the draw."""
    matrix = [[3, 1, 2], [0, 2, 4], [1, 0, 0]]
    extra = {"counts": [2, 1, 1], "n": [10, 10, 1], "sd": [0.1, 0.4, 0.0]}
    rng = np.random.default_rng(7)
    draws = [_design(name, matrix, rng, extra) for _ in range(12_000)]
    observed = Counter((d.cell, d.level, d.index) for d in draws)
    probability = {(d.cell, d.level, d.index): d.probability for d in draws}
    # Every stimulus of the support was drawn, and their logged probabilities sum to one.
    assert len(probability) == SUPPORT[name]
    assert sum(probability.values()) == pytest.approx(1.0)
    keys = sorted(observed)
    expected = [len(draws) * probability[k] for k in keys]
    result = stats.chisquare([observed[k] for k in keys], expected)
    assert result.pvalue > 0.001


def test_bernoulli_order_and_attention_rate_match_their_probabilities():
    rng = np.random.default_rng(2026)
    draws = 14_000
    lefts = sum(order_bernoulli(rng=rng).treated_on_left for _ in range(draws))
    assert stats.binomtest(lefts, draws, 0.5).pvalue > 0.001
    checks = [designs.attention_draw(rate=0.2, n_available=3, rng=rng) for _ in range(draws)]
    hits = sum(c.is_check for c in checks)
    assert stats.binomtest(hits, draws, 0.2).pvalue > 0.001
    assert {c.probability for c in checks if c.is_check} == {0.2}
    assert all(c.probability == pytest.approx(0.8) for c in checks if not c.is_check)
    none_left = designs.attention_draw(rate=0.2, n_available=0, rng=rng)
    assert none_left == designs.AttentionDraw(is_check=False, probability=1.0)


@settings(max_examples=50, deadline=None)
@given(half=st.integers(1, 4), blocks=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_permuted_blocks_balance_each_block_and_force_the_last_slot(half, blocks, seed):
    size, rng = 2 * half, np.random.default_rng(seed)
    for _ in range(blocks):
        lefts = 0
        for position in range(size):
            order = designs.order_block(
                block_size=size, lefts_so_far=lefts, position=position, rng=rng
            )
            assert order.scheme == "block" and 0 < order.probability <= 1
            forced = lefts == half or (size - position) == (half - lefts)
            assert (order.probability == 1.0) == forced
            lefts += order.treated_on_left
        assert lefts == half


def test_permuted_block_probabilities_match_frequencies():
    rng = np.random.default_rng(3)
    sequences = Counter()
    probability = {}
    for _ in range(6000):
        lefts, seq, p = 0, [], 1.0
        for position in range(4):
            order = designs.order_block(
                block_size=4, lefts_so_far=lefts, position=position, rng=rng
            )
            seq.append(order.treated_on_left)
            p *= order.probability
            lefts += order.treated_on_left
        sequences[tuple(seq)] += 1
        probability[tuple(seq)] = p
    assert len(sequences) == 6 and all(p == pytest.approx(1 / 6) for p in probability.values())
    assert stats.chisquare(list(sequences.values())).pvalue > 0.001


def _simulate(name, *, stimuli, cells, k, annotators, per_annotator, seed, strata=1):
    """Run a design against a live pool like the engine's: buckets of stimulus ids per
    (cell, level), the annotator's seen stimuli excluded."""
    rng = np.random.default_rng(seed)
    level = {s: 0 for s in range(stimuli)}
    cell_of = {s: s % cells for s in range(stimuli)}
    tally = np.zeros((strata, cells), dtype=int)
    served = []
    for a in range(annotators):
        stratum, seen = a % strata, set()
        for _ in range(per_annotator):
            buckets = [
                [
                    sorted(s for s in level if cell_of[s] == c and level[s] == lv and s not in seen)
                    for lv in range(k)
                ]
                for c in range(cells)
            ]
            matrix = [[len(b) for b in row] for row in buckets]
            if not any(map(any, matrix)):
                break
            extra = {"counts": tally[stratum], "n": [0] * cells, "sd": [0.5] * cells}
            d = _design(name, matrix, rng, extra)
            s = buckets[d.cell][d.level][d.index]
            level[s] += 1
            seen.add(s)
            tally[stratum, d.cell] += 1
            served.append((a, s))
    return level, tally, served


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 3),
    stimuli=st.integers(3, 12),
    annotators=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(DESIGNS),
)
def test_replication_never_exceeds_k_and_no_annotator_repeats(k, stimuli, annotators, seed, name):
    level, _, served = _simulate(
        name, stimuli=stimuli, cells=2, k=k, annotators=annotators, per_annotator=6, seed=seed
    )
    assert max(level.values()) <= k
    assert len(set(served)) == len(served)
    if name == "least_labelled":
        # Least-labelled-first spreads work: live counts differ by at most one.
        assert max(level.values()) - min(level.values()) <= 1


@settings(max_examples=25, deadline=None)
@given(strata=st.integers(1, 3), cells=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_stratified_design_balances_cells_within_every_stratum(strata, cells, seed):
    _, tally, _ = _simulate(
        "stratified",
        stimuli=60,
        cells=cells,
        k=3,
        annotators=6 * strata,
        per_annotator=5,
        seed=seed,
        strata=strata,
    )
    for row in tally:
        assert row.max() - row.min() <= 1


@given(
    sd=st.lists(st.floats(0, 0.5), min_size=2, max_size=5),
    n=st.integers(0, 50),
)
def test_neyman_shares_follow_the_spread_and_keep_a_floor(sd, n):
    shares = designs.neyman_allocation(n=[n] * len(sd), sd=sd, open_cells=[True] * len(sd))
    assert shares.sum() == pytest.approx(1.0)
    assert (shares >= designs.NEYMAN_FLOOR / len(sd) - 1e-12).all()
    if n >= 2:
        order = np.argsort(np.maximum(sd, 1e-3), kind="stable")
        assert (np.diff(shares[order]) >= -1e-12).all()


@given(
    taken=st.sets(st.integers(0, 30), max_size=10),
    size=st.integers(31, 40),
)
def test_position_skipping_is_a_bijection_onto_free_positions(taken, size):
    free = [p for p in range(size) if p not in taken]
    mapped = [designs.position_skipping(index=i, taken=sorted(taken)) for i in range(len(free))]
    assert mapped == free


def test_rng_for_is_keyed_by_study_enrollment_and_sequence():
    g1, key = rng_for(seed=1, enrollment_id=2, sequence=3)
    g2, _ = rng_for(seed=1, enrollment_id=2, sequence=3)
    g3, _ = rng_for(seed=1, enrollment_id=2, sequence=4)
    assert key == "1:2:3"
    assert g1.random() == g2.random() != g3.random()
