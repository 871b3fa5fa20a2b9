"""Randomisation designs: pure functions that return a choice and its probability.

Every function takes an explicit ``numpy.random.Generator``; the engine seeds it from the
study seed, the enrollment and the position in the annotator's sequence, and stores that
key on the assignment, so every draw can be replayed.

The engine describes the pool it may draw from as a matrix ``available[cell][level]``:
how many stimuli of treatment cell ``cell`` currently have ``level`` live assignments
(labelled, or in flight and unexpired) and have not been seen by this annotator, for
levels 0..k-1 only (a stimulus at level k is full). A design picks a bucket
``(cell, level)`` and a uniform position inside it, and returns the probability of that
exact stimulus given the matrix: that probability is what the assignment logs.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Bump a design's version whenever its behaviour changes: the version is stored on every
# assignment so an analysis can tell draws of different rules apart.
DESIGN_VERSIONS = {
    "complete": "1",
    "least_labelled": "1",
    "stratified": "1",
    "neyman": "1",
}
ORDER_SCHEMES = ("bernoulli", "block")
# Smallest share any cell keeps under adaptive allocation, so every propensity stays
# bounded away from zero and inverse-probability weights stay finite.
NEYMAN_FLOOR = 0.1
# Standard deviation assumed for a cell with fewer than two labels: the largest an
# outcome in [0, 1] can have, so unexplored cells are favoured.
NEYMAN_PRIOR_SD = 0.5


@dataclass(frozen=True)
class Draw:
    index: int
    probability: float


@dataclass(frozen=True)
class BucketDraw:
    cell: int
    level: int
    index: int
    probability: float


@dataclass(frozen=True)
class Order:
    treated_on_left: bool
    probability: float
    scheme: str


@dataclass(frozen=True)
class AttentionDraw:
    is_check: bool
    probability: float


def complete_randomisation(*, n_candidates: int, rng: np.random.Generator) -> Draw:
    """Pick one of ``n_candidates`` eligible stimuli uniformly at random."""
    if n_candidates < 1:
        raise ValueError("complete_randomisation needs at least one candidate")
    return Draw(index=int(rng.integers(n_candidates)), probability=1.0 / n_candidates)


def _matrix(available: Sequence[Sequence[int]]) -> np.ndarray:
    matrix = np.asarray(available, dtype=np.int64)
    if matrix.ndim != 2 or (matrix < 0).any():
        raise ValueError("available must be a cells x levels matrix of non-negative counts")
    return matrix


def _within(matrix: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> BucketDraw:
    """Uniform over the stimuli in the buckets selected by ``mask``."""
    weights = np.where(mask, matrix, 0).ravel()
    total = int(weights.sum())
    if total < 1:
        raise ValueError("no stimulus is available in the selected buckets")
    flat = int(rng.integers(total))
    bucket = int(np.searchsorted(np.cumsum(weights), flat, side="right"))
    cell, level = divmod(bucket, matrix.shape[1])
    index = flat - int(weights[:bucket].sum())
    return BucketDraw(cell=cell, level=level, index=index, probability=1.0 / total)


def design_complete(*, available: Sequence[Sequence[int]], rng: np.random.Generator) -> BucketDraw:
    """Complete randomisation: uniform over every stimulus below k not yet seen."""
    matrix = _matrix(available)
    return _within(matrix, np.ones_like(matrix, dtype=bool), rng)


def design_least_labelled(
    *, available: Sequence[Sequence[int]], rng: np.random.Generator
) -> BucketDraw:
    """Least-labelled-first: uniform among the available stimuli with the fewest live
    assignments. Replication never exceeds k because level k is never offered."""
    matrix = _matrix(available)
    per_level = matrix.sum(axis=0)
    level = int(np.flatnonzero(per_level > 0)[0]) if per_level.any() else 0
    mask = np.zeros_like(matrix, dtype=bool)
    mask[:, level] = True
    return _within(matrix, mask, rng)


def _cell_then_uniform(
    matrix: np.ndarray, cell_p: np.ndarray, rng: np.random.Generator
) -> BucketDraw:
    cell = int(rng.choice(len(cell_p), p=cell_p))
    mask = np.zeros_like(matrix, dtype=bool)
    mask[cell, :] = True
    inner = _within(matrix, mask, rng)
    return BucketDraw(
        cell=cell,
        level=inner.level,
        index=inner.index,
        probability=float(cell_p[cell]) * inner.probability,
    )


def design_stratified(
    *,
    available: Sequence[Sequence[int]],
    stratum_counts: Sequence[int],
    rng: np.random.Generator,
) -> BucketDraw:
    """Stratified balance: within the annotator's stratum, the cell (intervention) with
    the fewest assignments so far is chosen (uniform among ties, among cells with work
    left), then a stimulus uniformly within it. Every stratum therefore sees every cell
    in equal proportion, up to one assignment."""
    matrix = _matrix(available)
    counts = np.asarray(stratum_counts, dtype=np.int64)
    open_cells = matrix.sum(axis=1) > 0
    if not open_cells.any():
        raise ValueError("no stimulus is available in any cell")
    lowest = counts[open_cells].min()
    ties = open_cells & (counts == lowest)
    return _cell_then_uniform(matrix, ties / ties.sum(), rng)


def neyman_allocation(
    *, n: Sequence[int], sd: Sequence[float], open_cells: Sequence[bool]
) -> np.ndarray:
    """Cell shares proportional to each cell's outcome standard deviation (Neyman),
    mixed with a uniform floor so every open cell keeps at least NEYMAN_FLOOR / C."""
    counts = np.asarray(n)
    sds = np.where(counts >= 2, np.asarray(sd, dtype=float), NEYMAN_PRIOR_SD)
    sds = np.maximum(sds, 1e-3)
    mask = np.asarray(open_cells, dtype=bool)
    if not mask.any():
        raise ValueError("no cell is open")
    neyman = np.where(mask, sds, 0.0) / np.where(mask, sds, 0.0).sum()
    uniform = mask / mask.sum()
    return (1 - NEYMAN_FLOOR) * neyman + NEYMAN_FLOOR * uniform


def design_neyman(
    *,
    available: Sequence[Sequence[int]],
    n: Sequence[int],
    sd: Sequence[float],
    rng: np.random.Generator,
) -> BucketDraw:
    """Adaptive allocation across cells from running outcome variances. The share of
    each cell depends only on labels already committed, so the logged probability is
    the true conditional probability of the draw and Hajek/IPW estimates stay valid."""
    matrix = _matrix(available)
    cell_p = neyman_allocation(n=n, sd=sd, open_cells=matrix.sum(axis=1) > 0)
    return _cell_then_uniform(matrix, cell_p, rng)


def attention_draw(*, rate: float, n_available: int, rng: np.random.Generator) -> AttentionDraw:
    """Whether this slot is an attention check: with probability ``rate`` when an unseen
    check is available, never otherwise. The returned probability is that of the outcome."""
    if n_available < 1 or rate <= 0:
        return AttentionDraw(is_check=False, probability=1.0)
    is_check = bool(rng.random() < rate)
    return AttentionDraw(is_check=is_check, probability=rate if is_check else 1.0 - rate)


def order_bernoulli(*, rng: np.random.Generator) -> Order:
    """Treated response on the left with probability 1/2, independently per assignment."""
    return Order(treated_on_left=bool(rng.random() < 0.5), probability=0.5, scheme="bernoulli")


def order_block(
    *, block_size: int, lefts_so_far: int, position: int, rng: np.random.Generator
) -> Order:
    """Permuted blocks within an annotator: each block of ``block_size`` (even)
    consecutive assignments has exactly half with the treated response on the left.
    ``position`` is the 0-based place in the current block and ``lefts_so_far`` the
    lefts already in it; a forced slot has probability 1."""
    if block_size < 2 or block_size % 2:
        raise ValueError(f"block_size must be an even number >= 2; got {block_size}")
    if not 0 <= position < block_size:
        raise ValueError(f"position must be in [0, {block_size}); got {position}")
    lefts_left = block_size // 2 - lefts_so_far
    slots_left = block_size - position
    if not 0 <= lefts_left <= slots_left:
        raise ValueError("lefts_so_far is inconsistent with the block")
    p_left = lefts_left / slots_left
    left = bool(rng.random() < p_left)
    return Order(treated_on_left=left, probability=p_left if left else 1 - p_left, scheme="block")


def rng_for(*, seed: int, enrollment_id: int, sequence: int) -> tuple[np.random.Generator, str]:
    """The generator of one draw, and the key that recreates it."""
    key = f"{seed}:{enrollment_id}:{sequence}"
    return np.random.default_rng([seed, enrollment_id, sequence]), key


def position_skipping(*, index: int, taken: Sequence[int]) -> int:
    """The ``index``-th free position of a bucket whose positions ``taken`` are excluded
    (the annotator has seen those stimuli): maps a uniform draw over free positions onto
    bucket positions without rejection."""
    position = index
    for p in sorted(taken):
        if p <= position:
            position += 1
        else:
            break
    return position
