"""Politeness: the same answer with or without courtesy phrases.

``more`` opens with a courteous acknowledgement and, for a dose of 0.5 or more, closes
with an offer of further help; ``less`` drops short courtesy sentences ("I hope this
helps!") and leading interjections ("Sure! ", "Certainly, "). Courtesy phrases are kept
apart from flattery: nothing here praises the user or the question.
"""

import re

import numpy as np

from interventions.measures import POLITENESS
from interventions.transforms.blocks import (
    Block,
    join_blocks,
    paragraph_add,
    sentences_drop,
    split_blocks,
    upper_first,
)

NAME = "politeness"
VERSION = "1"
DIRECTIONS = ("more", "less")
_OPENERS = (
    "Certainly, I'd be happy to help with this.",
    "Of course, I'd be glad to help.",
    "Thank you for asking; I'd be happy to help.",
)
_CLOSERS = (
    "I hope this helps, and please feel free to let me know if you have any other questions.",
    "Please let me know if anything is unclear; I'm happy to help further.",
)
_INTERJECTION = re.compile(r"^(?:Sure|Certainly|Of course|Absolutely)[!,.]\s+(?=\S)")
_PLEASE = re.compile(r"^Please (?=[a-z])")


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "more", dose: float = 0.5
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"politeness: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"politeness: dose must be in (0, 1], not {dose}")
    if direction == "less":
        return _less(text)
    out = paragraph_add(text, _OPENERS[int(rng.integers(len(_OPENERS)))], at_start=True)
    if dose >= 0.5:
        out = paragraph_add(out, _CLOSERS[int(rng.integers(len(_CLOSERS)))], at_start=False)
    return out


def _courtesy_only(sentence: str) -> bool:
    """A sentence that is only courtesy: several courtesy phrases, or one in a short
    sentence ("Please note that ..." carries content and only loses its "Please")."""
    markers, words = len(POLITENESS.findall(sentence)), len(sentence.split())
    if markers >= 2:
        return words <= 25
    return markers == 1 and words <= 15 and _PLEASE.match(sentence) is None


def _less(text: str) -> str:
    text = sentences_drop(text, _courtesy_only)
    out = []
    for block in split_blocks(text):
        if block.kind == "prose":
            body = _PLEASE.sub("", _INTERJECTION.sub("", block.body))
            if body != block.body:
                block = Block("prose", block.prefix, upper_first(body))
        out.append(block)
    return join_blocks(out)
