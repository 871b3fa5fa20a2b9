"""Hedging: the same answer in confident or hedged phrasing.

``more`` opens a ``dose`` share of the prose sentences with an uncertainty qualifier
("In most cases, ...") and closes with a disclaimer; ``less`` removes qualifiers,
replaces modal hedges with plain statements ("might" -> "can") and drops disclaimer
sentences. Facts, numbers and structure stay as they are.
"""

import re

import numpy as np

from interventions.transforms.blocks import (
    Block,
    join_blocks,
    lower_first,
    paragraph_add,
    sentences_drop,
    split_blocks,
    split_sentences,
    upper_first,
)

NAME = "hedging"
VERSION = "1"
DIRECTIONS = ("more", "less")
_OPENERS = (
    "In most cases, ",
    "Generally, ",
    "As far as I know, ",
    "I believe ",
    "It seems that ",
    "Typically, ",
    "Perhaps ",
)
_DISCLAIMERS = (
    "That said, I may be wrong about some of these details, so it is worth double-checking them.",
    "I could be mistaken on some points, so treat this as a starting point and "
    "double-check anything important.",
)
_HEDGED_OPENER = re.compile(
    r"^(?:In most cases|Generally|Generally speaking|Typically|Usually|As far as I know|"
    r"To my knowledge|In my opinion|Perhaps|Probably|Possibly|Arguably),\s+|"
    r"^(?:I think|I believe|It seems that|It appears that|It is possible that|"
    r"It's possible that)\s+"
)
_MODALS = (
    (re.compile(r"\b(is|are) (?:very |quite )?likely to\b"), "will"),
    (re.compile(r"\bmight\b"), "can"),
    (re.compile(r"\bcould potentially\b"), "can"),
    (re.compile(r"\b(?:probably|possibly|perhaps|arguably|somewhat) "), ""),
    (re.compile(r"\b(?:seems|appears|tends) to be\b"), "is"),
)
_DISCLAIMER = re.compile(
    r"I may be wrong|I could be mistaken|I'm not (?:entirely )?sure|I am not (?:entirely )?"
    r"sure|please verify|double-check|not guaranteed",
    re.IGNORECASE,
)


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "more", dose: float = 0.3
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"hedging: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose <= 1:
        raise ValueError(f"hedging: dose must be in (0, 1] (share of sentences), not {dose}")
    if direction == "more":
        return _more(text, rng, dose)
    return _less(text)


def _hedgeable(sentence: str) -> bool:
    head = sentence[:40]
    return (
        sentence.endswith(".")
        and sentence[:1].isupper()
        and ":" not in head
        and "*" not in head
        and not _HEDGED_OPENER.match(sentence)
    )


def _more(text: str, rng: np.random.Generator, dose: float) -> str:
    blocks = split_blocks(text)
    sentences = {i: split_sentences(b.body) for i, b in enumerate(blocks) if b.kind == "prose"}
    candidates = [
        (i, j) for i, parts in sentences.items() for j, s in enumerate(parts) if _hedgeable(s)
    ]
    count = max(1, round(dose * len(candidates))) if candidates else 0
    for k in sorted(rng.permutation(len(candidates))[:count].tolist()):
        i, j = candidates[k]
        opener = _OPENERS[int(rng.integers(len(_OPENERS)))]
        sentences[i][j] = opener + lower_first(sentences[i][j])
    out = list(blocks)
    for i in {i for i, _ in candidates}:
        out[i] = Block("prose", blocks[i].prefix, " ".join(sentences[i]))
    disclaimer = _DISCLAIMERS[int(rng.integers(len(_DISCLAIMERS)))]
    return paragraph_add(join_blocks(out), disclaimer, at_start=False)


def _confident(sentence: str) -> str:
    stripped = _HEDGED_OPENER.sub("", sentence)
    if stripped != sentence:
        sentence = upper_first(stripped)
    for pattern, replacement in _MODALS:
        sentence = pattern.sub(replacement, sentence)
    return sentence


def _less(text: str) -> str:
    text = sentences_drop(text, lambda s: bool(_DISCLAIMER.search(s)) and len(s.split()) <= 30)
    out = []
    for block in split_blocks(text):
        if block.kind == "prose":
            parts = split_sentences(block.body)
            confident = [_confident(s) for s in parts]
            if confident != parts:
                block = Block("prose", block.prefix, " ".join(confident))
        out.append(block)
    return join_blocks(out)
