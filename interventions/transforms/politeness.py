"""Politeness: the same answer with or without courtesy phrases.

``more`` opens with a courteous acknowledgement and, for a dose of 0.5 or more, closes
with an offer of further help (never after a code fence left open); ``less`` removes
courtesy wherever it is: sentences that are only courtesy ("I hope this helps!", "Let me
know if you have questions."), leading interjections ("Sure! ", "Certainly, ") and
"please" ("Please note that" -> "Note that", "could you please send" -> "could you
send"). Courtesy phrases are kept apart from flattery: nothing here praises the user or
the question.
"""

import re

import numpy as np

from interventions.measures import (
    COURTESY_CLOSERS,
    COURTESY_OPENERS,
    FLATTERY,
    HEDGES,
    POLITENESS,
)
from interventions.transforms.blocks import (
    phrases_add,
    sentences_drop,
    sentences_map,
    split_blocks,
    split_sentences,
    upper_first,
)

NAME = "politeness"
VERSION = "2"
DIRECTIONS = ("more", "less")
_INTERJECTION = re.compile(r"^(?:Sure|Certainly|Of course|Absolutely)[!,.]\s+(?=[A-Z])")
_BARE_INTERJECTION = re.compile(r"^(?:Sure|Certainly|Of course|Absolutely)(?: thing)?[!.]$")
_PLEASE = re.compile(r"^Please,? (?=[a-z])|(?<=\w )please,? (?=[a-z])|,? please(?=[.!?]$)")
_KINDLY = re.compile(r"(?<=\w )kindly (?=[a-z])")


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "more", dose: float = 0.5
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"politeness: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"politeness: dose must be in (0, 1], not {dose}")
    if direction == "less":
        return _less(text)
    # An answer that already opens or closes with courtesy gets none added there: a
    # second "let me know if you have questions" reads as a copying error.
    openers = () if _opens_courteously(text) else COURTESY_OPENERS
    closers = () if _closes_courteously(text) else COURTESY_CLOSERS
    return phrases_add(text, rng, openers, closers, dose)


def _opens_courteously(text: str) -> bool:
    first = next((b.body for b in split_blocks(text) if b.kind == "prose"), "")
    parts = split_sentences(first)
    return bool(parts) and bool(
        POLITENESS.search(parts[0])
        or _INTERJECTION.match(first)
        or _BARE_INTERJECTION.match(parts[0])
    )


def _closes_courteously(text: str) -> bool:
    last = next((b.body for b in reversed(split_blocks(text)) if b.kind != "blank"), "")
    return bool(POLITENESS.search(last))


def _courtesy_only(sentence: str) -> bool:
    """A short sentence with a courtesy phrase; ``sentences_drop`` drops it only when,
    outside courtesy phrases, it says nothing the rest of the answer does not."""
    markers, words = len(POLITENESS.findall(sentence)), len(sentence.split())
    if HEDGES.search(sentence) or FLATTERY.search(sentence):
        return False  # another attribute's phrase stays
    return (markers >= 1 and words <= 30) or bool(_BARE_INTERJECTION.match(sentence))


def _plain(sentence: str) -> str:
    out = _INTERJECTION.sub("", sentence)
    out = _KINDLY.sub("", _PLEASE.sub("", out))
    return upper_first(out) if out != sentence else sentence


def _less(text: str) -> str:
    return sentences_map(sentences_drop(text, _courtesy_only), _plain)
