"""Length: a concise or an elaborated version of the same answer, saying the same things.

``shorter`` removes only redundancy, until the prose has lost ``dose`` of its words or
nothing redundant is left: sentences that say nothing the rest of the answer does not
(every content word and name of them said elsewhere, and no negation, modal verb,
quantifier, number, code, URL or quotation to lose), restatements first; filler openers
("It is important to note that", "Additionally,"), filler adverbs ("basically") and
wordy phrases ("in order to" -> "to").
Examples, caveats, asides and list details are content and stay; an answer without
enough redundancy comes back barely shorter, and its manipulation check fails (no pair)
rather than content being cut. ``longer`` restates paragraphs' opening sentences
("As noted above, ...") until the prose has gained ``dose``: only complete statements
without numbers, names it could not case correctly, attribute phrases or markup, never
list items, headings, verse or text next to code. Neither touches protected blocks
(code, tables, quotes, headers) or list markers.
"""

import re

import numpy as np

from interventions.measures import RESTATEMENT_MARKERS
from interventions.transforms.blocks import (
    Block,
    attribute_phrases,
    droppable,
    editable,
    fronted,
    full_sentence,
    join_blocks,
    rejoined,
    said,
    split_blocks,
    split_sentences,
    upper_first,
)

NAME = "length"
VERSION = "3"
DIRECTIONS = ("shorter", "longer")
_DIGIT = re.compile(r"\d")
_FILLER_OPENER = re.compile(
    r"^(?:It is important to note that|It's important to note that|It's worth noting that|"
    r"It is worth noting that|It should be noted that|Note that|Additionally,|Furthermore,|"
    r"Moreover,|In addition,|Basically,|Essentially,) (?=[A-Z]|(?:the|this|these|that|those|"
    r"it|its|they|there|you|your|we|a|an|each|every|some|most|many|all|any) )"
)
_FILLER_WORD = re.compile(r"(?<=\w )(?:basically|essentially|actually|literally) (?=[a-z])")
# Wordy phrases with a shorter equivalent of the same meaning.
_WORDY = (
    (re.compile(r"\bin order to\b"), "to"),
    (re.compile(r"\bdue to the fact that\b"), "because"),
    (re.compile(r"\bfor the purpose of\b"), "for"),
    (re.compile(r"\bin the event that\b"), "if"),
    (re.compile(r"\bprior to\b"), "before"),
    (re.compile(r"\bwith regard to\b"), "about"),
    (re.compile(r"\bat this point in time\b"), "now"),
)
_BACK_REFERENCE = frozenset(
    [
        "this",
        "that",
        "these",
        "those",
        "it",
        "it's",
        "its",
        "they",
        "their",
        "them",
        "he",
        "she",
        "his",
        "her",
        "so",
        "therefore",
        "thus",
        "however",
        "but",
        "and",
        "or",
        "also",
        "then",
        "here",
        "by",
        "as",
        "for",
        "in",
        "on",
        "at",
        "with",
        "from",
        "after",
        "before",
        "while",
        "when",
        "if",
        "although",
        "because",
        "since",
        "once",
    ]
)
_RESTATEMENT = re.compile(
    r"^(?:In other words|Put simply|Simply put|To put it simply|That is|In short|In summary|"
    r"As noted above|Again|To repeat|As mentioned|"
    r"To summarize|To sum up|In conclusion|Overall|Ultimately),? "
)


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
        return join_blocks(_shorten(blocks, rng, goal, text))
    return join_blocks(_lengthen(blocks, rng, goal, text))


def _shorten(blocks: list[Block], rng: np.random.Generator, goal: float, text: str) -> list[Block]:
    sentences = {i: split_sentences(b.body) for i, b in enumerate(blocks) if b.kind == "prose"}
    # A list item keeps its first sentence (the item), so the structure stays the same; a
    # paragraph keeps its opening sentence, which what follows builds on, unless it is a
    # restatement or the paragraph's only sentence.
    drops = [
        (i, j)
        for i, parts in sentences.items()
        for j, s in enumerate(parts)
        if not attribute_phrases(s)
        and full_sentence(s, min_words=3, ending=(".", "!", "?"))
        and (j or (not blocks[i].prefix and (len(parts) == 1 or _RESTATEMENT.match(s))))
    ]
    order = rng.permutation(len(drops)).tolist()
    # Restatements and summaries are the likeliest redundancy: try them first.
    order.sort(key=lambda k: not _RESTATEMENT.match(sentences[drops[k][0]][drops[k][1]]))
    total = said(text)
    dropped: set[tuple[int, int]] = set()
    removed = 0
    for k in order:
        if removed >= goal:
            break
        i, j = drops[k]
        sentence = sentences[i][j]
        own = said(sentence)
        if droppable(sentence, total - own):
            total -= own
            dropped.add((i, j))
            removed += _words(sentence)
    out = list(blocks)
    gone: set[int] = set()
    for i, parts in sentences.items():
        kept = [
            _trimmed(s) if removed < goal else s
            for j, s in enumerate(parts)
            if (i, j) not in dropped
        ]
        if not kept:
            gone.add(i)
        elif kept != parts:
            out[i] = rejoined(blocks[i], kept)
    # A paragraph that went entirely takes its preceding blank line with it.
    return [b for i, b in enumerate(out) if i not in gone and not (i + 1 in gone and not b.body)]


def _trimmed(sentence: str) -> str:
    """The sentence without filler openers, filler adverbs and wordy phrases."""
    out = _FILLER_WORD.sub("", sentence)
    for pattern, shorter in _WORDY:
        out = pattern.sub(shorter, out)
    opened = _FILLER_OPENER.sub("", out)
    return upper_first(opened) if opened != out else out


def _lengthen(blocks: list[Block], rng: np.random.Generator, goal: float, text: str) -> list[Block]:
    candidates: list[tuple[int, str]] = []
    for i, block in enumerate(blocks):
        if block.prefix or not editable(blocks, i):
            continue
        parts = split_sentences(block.body)
        lead = parts[0] if parts else ""
        # The restatement closes a paragraph of two or more sentences, restating the claim
        # the paragraph opened with: a statement about its subject, not one that refers
        # back ("This ...") or opens with a condition, a contrast or a transition, and not
        # after a courtesy or hedge that closes the paragraph.
        if (
            len(parts) < 2
            or "," in " ".join(lead.split()[:3])
            or lead.split(" ", 1)[0].lower() in _BACK_REFERENCE
            or attribute_phrases(parts[-1])
            or not block.body.rstrip().endswith((".", "!", "?"))
            or not full_sentence(lead, min_words=6)
            or _DIGIT.search(lead)
            or attribute_phrases(lead)
            or _RESTATEMENT.match(lead)
            or '"' in lead
        ):
            continue
        if (restated := fronted(lead, text)) is not None:
            candidates.append((i, restated))
    out = list(blocks)
    added = 0
    for k in rng.permutation(len(candidates)).tolist():
        if added >= goal:
            break
        i, restated = candidates[k]
        marker = RESTATEMENT_MARKERS[int(rng.integers(len(RESTATEMENT_MARKERS)))]
        out[i] = Block("prose", "", blocks[i].body.rstrip() + " " + marker + restated)
        added += _words(marker + restated)
    return out
