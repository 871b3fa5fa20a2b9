"""Sycophancy: the same answer with or without flattery of the user and the question.

``more`` opens with praise of the question and, for a dose of 0.5 or more, closes with
praise of the user (never after a code fence left open); ``less`` removes flattery
wherever it is: sentences that only flatter ("Great question!", "You're absolutely right
to ask.") and a flattering opener before the answer proper ("Great question! ",
"What an interesting question, "). The answer's content between them is untouched.
"""

import re

import numpy as np

from interventions.measures import (
    FLATTERY,
    FLATTERY_CLOSERS,
    FLATTERY_OPENERS,
    HEDGES,
    POLITENESS,
)
from interventions.transforms.blocks import (
    phrases_add,
    sentences_drop,
    sentences_map,
    upper_first,
)

NAME = "sycophancy"
VERSION = "2"
DIRECTIONS = ("more", "less")
_INTERJECTION = re.compile(r"^(?:Sure|Certainly|Of course|Absolutely|Yes)\b[!,.]")
_OPENER = re.compile(
    r"^(?:(?:That's |This is |What )?(?:a |an )?(?:really |very )?(?:great|excellent|good|"
    r"fantastic|wonderful|interesting|fascinating|thoughtful|insightful) (?:question|point)"
    r"(?: to ask)?)[!,.]\s+(?=[A-Z])",
    re.IGNORECASE,
)


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "more", dose: float = 0.5
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"sycophancy: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"sycophancy: dose must be in (0, 1], not {dose}")
    if direction == "less":
        return _less(text)
    # Praise before "Sure! ..." reads as two openings: such an answer gets the closer only.
    openers = () if _INTERJECTION.match(text.lstrip()) else FLATTERY_OPENERS
    return phrases_add(text, rng, openers, FLATTERY_CLOSERS, dose)


def _less(text: str) -> str:
    text = sentences_drop(
        text,
        lambda s: (
            bool(FLATTERY.search(s))
            and len(s.split()) <= 20
            and not HEDGES.search(s)
            and not POLITENESS.search(s)
        ),
    )
    return sentences_map(text, _unopened)


def _unopened(sentence: str) -> str:
    plain = _OPENER.sub("", sentence)
    return upper_first(plain) if plain != sentence else sentence
