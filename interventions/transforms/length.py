"""Length: a concise or an elaborated version of the same answer.

``shorter`` drops redundancy until the prose has lost ``dose`` of its words: non-leading
sentences of paragraphs and list items, asides in brackets, lists of examples,
non-restrictive clauses, fillers ("basically", "It is important to note that") and a
closing summary paragraph; ``longer`` appends restatements of a paragraph's own opening
sentence until it has gained ``dose``. Numbers are never dropped or repeated. Neither
touches protected blocks (code, tables, quotes, headers) or list markers, and only a
summary paragraph loses its first sentence, so the structure and the lead claim of every
other paragraph survive.
"""

import re

import numpy as np

from interventions.transforms.blocks import Block, join_blocks, split_blocks, split_sentences

NAME = "length"
VERSION = "2"
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


# Redundancy that can go without changing what is claimed: asides in brackets, lists
# of examples, non-restrictive clauses, fillers, and a closing summary paragraph.
_PHRASES = re.compile(
    r" \([^()`]{3,120}\)"
    r"|, (?:such as|including|for example|e\.g\.|which|as well as) [^.;:()`]+(?=[.;])"
    r"|(?<= )(?:basically|actually|essentially|really|very|simply|quite|just) "
    r"|^(?:It is important to note that|It's important to note that|It's worth noting that"
    r"|It is worth noting that|Note that|Additionally, |Furthermore, |Moreover, ) ?"
)
_DIGIT = re.compile(r"\d")
_SUMMARY = re.compile(r"^(?:In conclusion|In summary|To summarize|To sum up|Overall|Remember)\b")


def _shorten(blocks: list[Block], rng: np.random.Generator, goal: float) -> list[Block]:
    sentences = {i: split_sentences(b.body) for i, b in enumerate(blocks) if b.kind == "prose"}
    prose_paragraphs = [i for i in sentences if not blocks[i].prefix]
    # (block, sentence, span): span None drops the sentence, (-1, -1) the whole block.
    candidates: list[tuple[int, int, tuple[int, int] | None]] = []
    for i, parts in sentences.items():
        summary = (
            bool(parts) and _SUMMARY.match(parts[0]) and not any(_DIGIT.search(p) for p in parts)
        )
        if i in prose_paragraphs and len(prose_paragraphs) > 1 and summary:
            candidates.append((i, 0, (-1, -1)))
        for j, part in enumerate(parts):
            # Sentences and asides with numbers stay: numbers are the facts most easily
            # checked, and a concise answer should keep them.
            if j and not _DIGIT.search(part):
                candidates.append((i, j, None))
            candidates.extend(
                (i, j, m.span()) for m in _PHRASES.finditer(part) if not _DIGIT.search(m.group())
            )
    dropped: set[tuple[int, int]] = set()
    cuts: dict[tuple[int, int], list[tuple[int, int]]] = {}
    gone: set[int] = set()
    removed = 0
    for k in rng.permutation(len(candidates)):
        if removed >= goal:
            break
        i, j, span = candidates[k]
        if i in gone or (i, j) in dropped:
            continue
        if span == (-1, -1):
            gone.add(i)
            removed += sum(_words(p) for p in sentences[i])
        elif span is None:
            dropped.add((i, j))
            removed += _words(sentences[i][j])
        elif not any(a < span[1] and span[0] < b for a, b in cuts.get((i, j), [])):
            cuts.setdefault((i, j), []).append(span)
            removed += _words(sentences[i][j][span[0] : span[1]])
    out = list(blocks)
    for i, parts in sentences.items():
        edited = [
            _cut(s, cuts.get((i, j), [])) for j, s in enumerate(parts) if (i, j) not in dropped
        ]
        if edited != parts:
            out[i] = Block("prose", blocks[i].prefix, " ".join(edited))
    # A dropped summary paragraph takes its preceding blank line with it.
    return [b for i, b in enumerate(out) if i not in gone and not (i + 1 in gone and not b.body)]


def _cut(sentence: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        sentence = sentence[:start] + sentence[end:]
    if any(start == 0 for start, _ in spans):  # an opener went: the sentence starts anew
        sentence = sentence[:1].upper() + sentence[1:]
    return sentence


def _lengthen(blocks: list[Block], rng: np.random.Generator, goal: float) -> list[Block]:
    # Only complete statements are restated: a paragraph ending in ':' introduces what
    # follows, and a restatement after it would break the sentence it opens. Leads with
    # numbers are not restated, so the count of numbers (facts) stays the same.
    prose = [
        i
        for i, b in enumerate(blocks)
        if b.kind == "prose"
        and b.body.rstrip().endswith((".", "!", "?"))
        and split_sentences(b.body)[0].endswith((".", "!", "?"))
        and not _DIGIT.search(split_sentences(b.body)[0])
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
