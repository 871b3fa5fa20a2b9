"""Split markdown into blocks so transforms edit prose and leave everything else intact.

Fenced code, tables, block quotes, headers and HTML-looking lines are *protected*: a
transform never changes them. Paragraphs and list items are *prose*: a transform may
edit their sentences, keeping a list item's marker.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from interventions.measures import (
    FLATTERY,
    FUNCTION_WORDS,
    HEDGES,
    POLITENESS,
    Token,
    content_words,
    prose_tokens,
)

_FENCE = re.compile(r"^\s*(```|~~~)")
# Inline TeX: dollars around a formula with a backslash, power, index or brace ("$2^k$"),
# not a price ("$5 to $10").
_TEX = re.compile(r"\$[^$\n]*[\\^_{}][^$\n]*\$")
_LIST_MARKER = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)(.*)$")
_PROTECTED_LINE = re.compile(
    r"^\s*(#{1,6}\s|\||>|<|!\[|---+\s*$|\*\*\*+\s*$|===+\s*$|\$\$|\\\[|\\begin\{)"
)
# A sentence ends at . ! or ? followed by space and a capital, digit, quote or bracket.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass(frozen=True)
class Block:
    """One line-aligned block. ``prefix`` is a list marker kept verbatim; ``body`` is prose."""

    kind: str  # "prose", "protected", "verse" or "blank"
    prefix: str
    body: str


def rejoined(block: Block, sentences: list[str]) -> Block:
    """The block with its sentences replaced, keeping its marker and the whitespace
    around its body (a trailing space is no edit)."""
    body = block.body
    lead = body[: len(body) - len(body.lstrip())]
    trail = body[len(body.rstrip()) :]
    return Block(block.kind, block.prefix, lead + " ".join(sentences) + trail)


def split_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    in_fence = False
    fence_lines: list[str] = []
    for line in text.split("\n"):
        if in_fence:
            fence_lines.append(line)
            if _FENCE.match(line):
                blocks.append(Block("protected", "", "\n".join(fence_lines)))
                in_fence, fence_lines = False, []
            continue
        if _FENCE.match(line):
            in_fence, fence_lines = True, [line]
        elif not line.strip():
            blocks.append(Block("blank", "", line))
        elif (
            _PROTECTED_LINE.match(line)
            or line.startswith("    ")
            or "`" in line
            or _TEX.search(line)
        ):
            # Indented code and lines with inline code or TeX math are left alone:
            # splitting sentences inside code spans or formulas could change them.
            blocks.append(Block("protected", "", line))
        elif marker := _LIST_MARKER.match(line):
            blocks.append(Block("prose", marker.group(1), marker.group(2)))
        else:
            blocks.append(Block("prose", "", line))
    if in_fence:  # an unterminated fence runs to the end, as markdown renders it
        blocks.append(Block("protected", "", "\n".join(fence_lines)))
    return _verse_marked(blocks)


def _verse_marked(blocks: list[Block]) -> list[Block]:
    """Adjacent lines of plain prose (no blank line between) are verse, lyrics, dialogue
    or an address: their line breaks carry meaning, so they are left as they are, like
    protected blocks."""
    out = list(blocks)
    i = 0
    while i < len(out):
        j = i
        while j < len(out) and out[j].kind == "prose" and not out[j].prefix:
            j += 1
        if j - i >= 2:
            out[i:j] = [Block("verse", "", b.body) for b in out[i:j]]
        i = max(j, i + 1)
    return out


def join_blocks(blocks: list[Block]) -> str:
    return "\n".join(block.prefix + block.body for block in blocks)


_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|vs|etc|Inc|Ltd|Co|No|Fig|Vol|approx|e\.g|i\.e|"
    r"[A-Z])\.$"
)


def split_sentences(body: str) -> list[str]:
    """Sentences of a line of prose. A quotation of several sentences stays one piece, so
    no edit lands inside it, and an abbreviation ("Ms. Labelle", "e.g. Paris") ends none."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(body.strip()):
        if not piece:
            continue
        last = pieces[-1] if pieces else ""
        if pieces and (
            last.count('"') % 2 or last.count("“") > last.count("”") or _ABBREVIATION.search(last)
        ):
            pieces[-1] += " " + piece
        else:
            pieces.append(piece)
    return pieces


def protected_blocks(text: str) -> list[str]:
    """The protected blocks of a text in order: what every transform must keep verbatim."""
    return [b.body for b in split_blocks(text) if b.kind in ("protected", "verse")]


_FIRST_WORDS = re.compile(r"([A-Za-z][\w'’-]*)[,;:]?(?:\s+(\S+))?")
_SPEAKER = re.compile(r"^\s*\**[A-Z][\w .'-]{0,30}\**:\s")
_CODE_BLOCK = re.compile(r"^\s*(```|~~~)|^    |`")


@lru_cache(maxsize=8)
def _casing(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The words a text capitalises inside sentences (names) and the words it writes in
    lower case: how the answer itself says whether a word is a name."""
    tokens = [t for t in prose_tokens(text) if t.kind == "word"]
    names = frozenset(t.text for t in tokens if t.name)
    lower = frozenset(t.key for t in tokens if t.text[:1].islower())
    return names, lower


def is_name(word: str, text: str) -> bool:
    """Whether the answer capitalises ``word`` inside a sentence somewhere."""
    return word in _casing(text)[0]


def fronted(sentence: str, text: str) -> str | None:
    """The sentence as it reads after a phrase put in front of it ("In most cases, ..."):
    a function word or a word the answer writes in lower case is lower-cased; a name
    (capitalised inside a sentence of the answer, or followed by another capitalised
    word), an acronym or "I" keeps its capital; None when the answer does not say which
    (a phrase is then not put there). The manipulation check applies the same rule."""
    match = _FIRST_WORDS.match(sentence)
    if match is None or not sentence[:1].isupper():
        return None
    first, following = match.group(1), match.group(2) or ""
    lowered = sentence[0].lower() + sentence[1:]
    if first == "I" or first.startswith(("I'", "I’")) or (len(first) > 1 and first[:2].isupper()):
        return sentence
    if first.lower() in FUNCTION_WORDS:
        return lowered
    names, lower = _casing(text)
    if following[:1].isupper() or first in names:
        return sentence
    if first.lower() in lower:
        return lowered
    return None


def upper_first(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def full_sentence(sentence: str, *, min_words: int = 5, ending: tuple[str, ...] = (".",)) -> bool:
    """A complete declarative sentence of prose: capitalised, ending in a full stop, of a
    few words, with no label (":"), emphasis, code or table syntax that a phrase put in
    front of it, or a copy of it, would break."""
    return (
        sentence[:1].isupper()
        and sentence.endswith(ending)
        and not sentence.endswith("..")
        and len(sentence.split()) >= min_words
        and not any(c in sentence for c in ":*`|_#[]")
    )


def editable(blocks: list[Block], i: int) -> bool:
    """Prose that a phrase may be added to: not verse, not a line of a script or dialogue,
    not a line introducing or following code (the nearest non-blank neighbours are no
    code block)."""
    if blocks[i].kind != "prose" or blocks[i].body.rstrip().endswith(":"):
        return False
    if _SPEAKER.match(blocks[i].body) or blocks[i].body.lstrip().startswith("["):
        return False  # a line of a script or dialogue ("CISO: ...", "[Applause]")
    for step in (-1, 1):
        k = i + step
        while 0 <= k < len(blocks) and blocks[k].kind == "blank":
            k += step
        near = blocks[k] if 0 <= k < len(blocks) else None
        if near is not None and near.kind == "protected" and _CODE_BLOCK.search(near.body):
            return False
    return True


def attribute_phrases(sentence: str) -> bool:
    """Whether a sentence has a hedge, flattery or courtesy phrase: a length edit that
    copied or dropped it would move another attribute."""
    return any(lexicon.search(sentence) for lexicon in (HEDGES, FLATTERY, POLITENESS))


def open_fence(text: str) -> bool:
    """Whether the text ends inside a code fence that is never closed (markdown renders
    the rest as code, so nothing may be appended)."""
    return sum(1 for line in text.split("\n") if _FENCE.match(line)) % 2 == 1


def paragraph_add(
    text: str, sentence: str, *, at_start: bool, before_courtesy: bool = False
) -> str:
    """Add a paragraph of prose before or after the whole text; never after a code fence
    that is left open, where it would become code. With ``before_courtesy`` a closing
    paragraph goes before a closing courtesy paragraph ("Let me know if ..."), where a
    writer would put it."""
    if at_start:
        return sentence + "\n\n" + text
    if open_fence(text):
        return text
    blocks = split_blocks(text)
    last = max((i for i, b in enumerate(blocks) if b.kind != "blank"), default=None)
    if (
        before_courtesy
        and last
        and blocks[last].kind == "prose"
        and not blocks[last].prefix
        and POLITENESS.search(blocks[last].body)
        and blocks[last - 1].kind == "blank"
    ):
        head = join_blocks(blocks[:last])  # ends with the blank line's "\n"
        return head + "\n" + sentence + "\n\n" + join_blocks(blocks[last:])
    return text.rstrip("\n") + "\n\n" + sentence + text[len(text.rstrip("\n")) :]


def phrases_add(
    text: str,
    rng: np.random.Generator,
    openers: tuple[str, ...],
    closers: tuple[str, ...],
    dose: float,
) -> str:
    """An opening paragraph drawn from ``openers`` and, for a dose of 0.5 or more, a
    closing one drawn from ``closers`` (none where the tuple is empty)."""
    out = text
    if openers:
        out = paragraph_add(out, openers[int(rng.integers(len(openers)))], at_start=True)
    if dose >= 0.5 and closers:
        out = paragraph_add(out, closers[int(rng.integers(len(closers)))], at_start=False)
    return out


def sentences_map(text: str, edit: Callable[[str], str]) -> str:
    """Apply ``edit`` to every prose sentence (not verse, code or other protected text)."""
    out = []
    for block in split_blocks(text):
        if block.kind == "prose":
            parts = split_sentences(block.body)
            edited = [edit(s) for s in parts]
            if edited != parts:
                block = rejoined(block, edited)
        out.append(block)
    return join_blocks(out)


_KEPT_CLASSES = frozenset(("negation", "modal", "quantifier", "number", "code", "url", "quote"))


def said(text: str) -> Counter[str]:
    """How often the text says each content word or name (lower case), and each
    capitalised word as written ("Cap:Warsaw"): what ``droppable`` looks for elsewhere."""
    tokens = [t for t in prose_tokens(text) if t.kind == "word"]
    return Counter(
        [t.key for t in tokens if t.content or t.name]
        + ["Cap:" + t.text for t in tokens if t.text[:1].isupper()]
    )


def droppable(sentence: str, said_elsewhere: Counter[str], exempt: Iterable[str] = ()) -> bool:
    """A sentence whose loss changes no claim: outside stock and attribute phrases it has
    no negation, modal verb, quantifier, number, code, URL or quotation, and every content
    word and name of it is said elsewhere in the answer (``said_elsewhere`` counts the
    rest of the answer)."""
    tokens: list[Token] = prose_tokens(sentence)
    kept = _KEPT_CLASSES - set(exempt)
    if any(not t.masked and kept & set(t.classes) for t in tokens):
        return False
    names = {"Cap:" + t.text for t in tokens if t.name}
    return all(said_elsewhere[w] > 0 for w in content_words(tokens) | names)


def sentences_drop(text: str, drop, *, exempt: Iterable[str] = ()) -> str:
    """Remove every prose sentence for which ``drop(sentence)`` is true and that says
    nothing the rest of the answer does not (``droppable``); a paragraph or list item
    left empty disappears with its marker."""
    out: list[Block] = []
    changed = False
    total = said(text)
    for block in split_blocks(text):
        if block.kind != "prose":
            out.append(block)
            continue
        parts = split_sentences(block.body)
        kept = []
        for s in parts:
            if drop(s) and droppable(s, total - (own := said(s)), exempt):
                total -= own
            else:
                kept.append(s)
        if len(kept) == len(parts):
            out.append(block)
            continue
        changed = True
        if kept:
            out.append(rejoined(block, kept))
        elif out and out[-1].kind == "blank":
            out.pop()  # no double blank line where the paragraph was
    while changed and out and out[0].kind == "blank":
        out.pop(0)
    return join_blocks(out)
