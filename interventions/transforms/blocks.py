"""Split markdown into blocks so transforms edit prose and leave everything else intact.

Fenced code, tables, block quotes, headers and HTML-looking lines are *protected*: a
transform never changes them. Paragraphs and list items are *prose*: a transform may
edit their sentences, keeping a list item's marker.
"""

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_MARKER = re.compile(r"^(\s*(?:[-*+]|\d+[.)])\s+)(.*)$")
_PROTECTED_LINE = re.compile(r"^\s*(#{1,6}\s|\||>|<|!\[|---+\s*$|\*\*\*+\s*$|===+\s*$)")
# A sentence ends at . ! or ? followed by space and a capital, digit, quote or bracket.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass(frozen=True)
class Block:
    """One line-aligned block. ``prefix`` is a list marker kept verbatim; ``body`` is prose."""

    kind: str  # "prose", "protected" or "blank"
    prefix: str
    body: str


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
        elif _PROTECTED_LINE.match(line) or line.startswith("    ") or "`" in line:
            # Indented code and lines with inline code are left alone: splitting
            # sentences inside code spans could change them.
            blocks.append(Block("protected", "", line))
        elif marker := _LIST_MARKER.match(line):
            blocks.append(Block("prose", marker.group(1), marker.group(2)))
        else:
            blocks.append(Block("prose", "", line))
    if in_fence:  # an unterminated fence runs to the end, as markdown renders it
        blocks.append(Block("protected", "", "\n".join(fence_lines)))
    return blocks


def join_blocks(blocks: list[Block]) -> str:
    return "\n".join(block.prefix + block.body for block in blocks)


def split_sentences(body: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(body.strip()) if s]


def protected_blocks(text: str) -> list[str]:
    """The protected blocks of a text in order: what every transform must keep verbatim."""
    return [b.body for b in split_blocks(text) if b.kind == "protected"]


def lower_first(sentence: str) -> str:
    """Lower-case a sentence's first letter unless it opens with an acronym, 'I' or a
    non-letter, so a phrase can be put in front of it."""
    first = sentence.split(" ", 1)[0]
    if sentence[:2].isupper() or not sentence[:1].isalpha() or first in ("I", "I'm", "I've"):
        return sentence
    return sentence[0].lower() + sentence[1:]


def upper_first(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def paragraph_add(text: str, sentence: str, *, at_start: bool) -> str:
    """Add a paragraph of prose before or after the whole text."""
    if at_start:
        return sentence + "\n\n" + text
    return text.rstrip("\n") + "\n\n" + sentence + text[len(text.rstrip("\n")) :]


def sentences_drop(text: str, drop) -> str:
    """Remove every prose sentence for which ``drop(sentence)`` is true; a paragraph or
    list item left empty disappears with its marker."""
    out: list[Block] = []
    changed = False
    for block in split_blocks(text):
        if block.kind != "prose":
            out.append(block)
            continue
        parts = split_sentences(block.body)
        kept = [s for s in parts if not drop(s)]
        if len(kept) == len(parts):
            out.append(block)
            continue
        changed = True
        if kept:
            out.append(Block("prose", block.prefix, " ".join(kept)))
        elif out and out[-1].kind == "blank":
            out.pop()  # no double blank line where the paragraph was
    while changed and out and out[0].kind == "blank":
        out.pop(0)
    return join_blocks(out)
