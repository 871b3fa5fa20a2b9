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
