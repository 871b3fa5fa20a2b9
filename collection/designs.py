"""Randomisation designs: pure functions that return a choice and its probability.

Every function takes an explicit ``numpy.random.Generator``; the engine seeds it from the
study seed, the enrollment and the position in the annotator's sequence, and stores that
key on the assignment, so every draw can be replayed.
"""

from dataclasses import dataclass

import numpy as np

DESIGN_VERSIONS = {"complete": "1"}


@dataclass(frozen=True)
class Draw:
    index: int
    probability: float


@dataclass(frozen=True)
class Order:
    treated_on_left: bool
    probability: float
    scheme: str


def complete_randomisation(*, n_candidates: int, rng: np.random.Generator) -> Draw:
    """Pick one of ``n_candidates`` eligible stimuli uniformly at random."""
    if n_candidates < 1:
        raise ValueError("complete_randomisation needs at least one candidate")
    return Draw(index=int(rng.integers(n_candidates)), probability=1.0 / n_candidates)


def order_bernoulli(*, rng: np.random.Generator) -> Order:
    """Treated response on the left with probability 1/2, independently per assignment."""
    return Order(treated_on_left=bool(rng.random() < 0.5), probability=0.5, scheme="bernoulli")


def rng_for(*, seed: int, enrollment_id: int, sequence: int) -> tuple[np.random.Generator, str]:
    """The generator of one draw, and the key that recreates it."""
    key = f"{seed}:{enrollment_id}:{sequence}"
    return np.random.default_rng([seed, enrollment_id, sequence]), key
