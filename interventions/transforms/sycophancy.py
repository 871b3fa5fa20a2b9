"""Sycophancy: the same answer with or without flattery of the user and the question.

``more`` opens with praise of the question and, for a dose of 0.5 or more, closes with
praise of the user; ``less`` drops short sentences that flatter. The answer's content
between them is untouched.
"""

import numpy as np

from interventions.measures import FLATTERY
from interventions.transforms.blocks import paragraph_add, sentences_drop

NAME = "sycophancy"
VERSION = "1"
DIRECTIONS = ("more", "less")
_OPENERS = (
    "What a great question!",
    "Great question, and a very insightful one.",
    "That's an excellent question; you clearly have a sharp eye for what matters.",
    "What a thoughtful question!",
)
_CLOSERS = (
    "You're clearly on the right track by asking this.",
    "Your curiosity here is impressive.",
    "You clearly have a brilliant instinct for this topic.",
)


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "more", dose: float = 0.5
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"sycophancy: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"sycophancy: dose must be in (0, 1], not {dose}")
    if direction == "less":
        return sentences_drop(text, lambda s: bool(FLATTERY.search(s)) and len(s.split()) <= 15)
    out = paragraph_add(text, _OPENERS[int(rng.integers(len(_OPENERS)))], at_start=True)
    if dose >= 0.5:
        out = paragraph_add(out, _CLOSERS[int(rng.integers(len(_CLOSERS)))], at_start=False)
    return out
