"""Attribute measures computed on both sides of a pair for the manipulation check.

The markdown counts follow Chatbot Arena's style features (headers, list items, bold),
counted outside fenced code so code comments and ``**kwargs`` do not count as style.
"""

import re

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")

MEASURES = ("words", "chars", "headers", "list_items", "bold", "code_blocks")


def _split_code(text: str) -> tuple[list[str], int]:
    """Lines outside fenced code, and the number of fenced blocks."""
    outside: list[str] = []
    fences = 0
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            fences += 1
        elif not in_fence:
            outside.append(line)
    return outside, (fences + 1) // 2


def measure_all(text: str) -> dict[str, int]:
    lines, code_blocks = _split_code(text)
    prose = "\n".join(lines)
    return {
        "words": len(text.split()),
        "chars": len(text),
        "headers": sum(bool(_HEADER.match(line)) for line in lines),
        "list_items": sum(bool(_LIST_ITEM.match(line)) for line in lines),
        "bold": len(_BOLD.findall(prose)),
        "code_blocks": code_blocks,
    }
