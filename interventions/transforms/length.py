"""Length: a concise or an elaborated version of the same answer.

``shorter`` drops non-leading sentences of paragraphs and list items until the prose has
lost ``dose`` of its words; ``longer`` appends restatements of a paragraph's own opening
sentence until it has gained ``dose``. Neither touches protected blocks (code, tables,
quotes, headers), list markers or the first sentence of any paragraph, so the structure
and the lead claim of every paragraph survive.
"""

import re

import numpy as np

from interventions.transforms.blocks import Block, join_blocks, split_blocks, split_sentences

NAME = "length"
VERSION = "1"
DIRECTIONS = ("shorter", "longer")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(\S(?:.*?\S)?)\1")
_RESTATEMENTS = ("In other words, ", "Put simply, ", "To restate the point, ", "That is, ")


def _words(text: str) -> int:
    return len(text.split())


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "shorter", dose: float = 0.3
) -> str:
    if direction not in DIRECTIONS:
        raise ValueError(f"length: direction must be one of {DIRECTIONS}, not {direction!r}")
    if not 0 < dose < 1:
        raise ValueError(f"length: dose must be between 0 and 1 (a share of words), not {dose}")
    blocks = split_blocks(text)
    goal = dose * _words(text)
    if direction == "shorter":
        return join_blocks(_shorten(blocks, rng, goal))
    return join_blocks(_lengthen(blocks, rng, goal))


def _shorten(blocks: list[Block], rng: np.random.Generator, goal: float) -> list[Block]:
    sentences = {i: split_sentences(b.body) for i, b in enumerate(blocks) if b.kind == "prose"}
    candidates = [(i, j) for i, parts in sentences.items() for j in range(1, len(parts))]
    dropped: set[tuple[int, int]] = set()
    removed = 0
    for k in rng.permutation(len(candidates)):
        if removed >= goal:
            break
        i, j = candidates[k]
        dropped.add((i, j))
        removed += _words(sentences[i][j])
    out = list(blocks)
    for i, parts in sentences.items():
        kept = [s for j, s in enumerate(parts) if (i, j) not in dropped]
        out[i] = Block("prose", blocks[i].prefix, " ".join(kept))
    return out


def _lengthen(blocks: list[Block], rng: np.random.Generator, goal: float) -> list[Block]:
    # Only complete statements are restated: a paragraph ending in ':' introduces what
    # follows, and a restatement after it would break the sentence it opens.
    prose = [
        i
        for i, b in enumerate(blocks)
        if b.kind == "prose"
        and b.body.rstrip().endswith((".", "!", "?"))
        and split_sentences(b.body)[0].endswith((".", "!", "?"))
    ]
    out = list(blocks)
    added = 0
    for i in rng.permutation(prose):
        if added >= goal:
            break
        # Emphasis is not repeated: a restatement must not add bold or italics.
        lead = _EMPHASIS.sub(r"\2", split_sentences(blocks[i].body)[0])
        opener = _RESTATEMENTS[int(rng.integers(len(_RESTATEMENTS)))]
        # Lower-case the first letter unless the sentence opens with an acronym or name.
        keep_case = lead[:2].isupper() or not lead[:1].isalpha()
        restated = opener + (lead if keep_case else lead[0].lower() + lead[1:])
        out[i] = Block("prose", blocks[i].prefix, blocks[i].body.rstrip() + " " + restated)
        added += _words(restated)
    return out
