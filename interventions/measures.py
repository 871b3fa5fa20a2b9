"""Attribute measures computed on both sides of a pair for the manipulation check.

The markdown counts follow Chatbot Arena's style features (headers, list items, bold),
counted outside fenced code so code comments and ``**kwargs`` do not count as style.
Words are counted outside markup (list markers, ``#`` and ``**`` are not words), so
turning a list into prose does not look like a change of length. The phrase lexicons
(hedges, flattery, politeness) are disjoint, so one transform's phrases never register
as another's attribute.
"""

import re
from collections import Counter

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADER = re.compile(r"^\s{0,3}#{1,6}\s")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|(?:[-*+]|\d+[.)])\s+)")
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_WORD = re.compile(r"\w", re.UNICODE)
_TOKEN = re.compile(r"\w+|[^\w\s]")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_UNITS = (
    "km",
    "kilometers",
    "kilometres",
    "miles",
    "mi",
    "m",
    "meters",
    "metres",
    "feet",
    "ft",
    "cm",
    "inches",
    "kg",
    "kilograms",
    "pounds",
    "lbs",
    "g",
    "grams",
    "ounces",
    "°C",
    "°F",
    "celsius",
    "fahrenheit",
    "liters",
    "litres",
    "gallons",
    "ml",
    "mph",
    "km/h",
    "seconds",
    "minutes",
    "hours",
    "days",
    "weeks",
    "months",
    "years",
    "GB",
    "MB",
    "KB",
    "TB",
)
# A unit counts only right after a number ("5 km", "20°C"): "m" alone is not a unit.
_UNIT = re.compile(r"(?<=\d)\s?(" + "|".join(re.escape(u) for u in _UNITS) + r")(?![\w/])")


def _lexicon(*phrases: str) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)
    return re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)", re.IGNORECASE)


HEDGES = _lexicon(
    "might",
    "may",
    "perhaps",
    "possibly",
    "probably",
    "likely",
    "unlikely",
    "it seems",
    "seems to",
    "appears to",
    "i think",
    "i believe",
    "in my opinion",
    "as far as i know",
    "to my knowledge",
    "not entirely sure",
    "i'm not sure",
    "i am not sure",
    "could be",
    "it is possible",
    "it's possible",
    "generally",
    "typically",
    "in most cases",
    "somewhat",
    "arguably",
    "roughly",
    "approximately",
    "i may be wrong",
    "please verify",
    "double-check",
    "not guaranteed",
    "may vary",
    "i could be mistaken",
    "tends to",
)
FLATTERY = _lexicon(
    "great question",
    "excellent question",
    "fantastic question",
    "good question",
    "wonderful question",
    "insightful",
    "thoughtful question",
    "you're absolutely right",
    "you are absolutely right",
    "impressive",
    "brilliant",
    "you clearly",
    "sharp eye",
    "smart thinking",
    "what a great",
    "astute",
    "you've clearly",
    "your curiosity",
    "right track",
    "you have clearly",
    "great instinct",
)
POLITENESS = _lexicon(
    "please",
    "thank you",
    "thanks",
    "happy to help",
    "glad to help",
    "hope this helps",
    "hope that helps",
    "let me know",
    "feel free",
    "certainly",
    "of course",
    "you're welcome",
    "my pleasure",
    "kindly",
    "i'd be happy",
    "i would be happy",
)

MEASURES = (
    "words", "tokens", "chars", "sentences", "headers", "list_items", "bold", "markdown",
    "code_blocks", "numbers", "hedges", "flattery", "politeness",
)  # fmt: skip


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


def _words(text: str) -> int:
    return sum(1 for token in text.split() if _WORD.search(token))


def _content(lines: list[str]) -> str:
    """Prose without line markers (headers, quotes, list markers) or bold markers."""
    return "\n".join(_MARKER.sub("", line) for line in lines).replace("**", "")


def numeric_values(text: str) -> list[str]:
    """Numbers and units outside code and list markers, in order: what a factual error edits."""
    lines, _ = _split_code(text)
    content = _content(lines)
    return _NUMBER.findall(content) + _UNIT.findall(content)


def measure_all(text: str) -> dict[str, int]:
    lines, code_blocks = _split_code(text)
    prose = "\n".join(lines)
    content = _content(lines)
    headers = sum(bool(_HEADER.match(line)) for line in lines)
    list_items = sum(bool(_LIST_ITEM.match(line)) for line in lines)
    bold = len(_BOLD.findall(prose))
    return {
        "words": _words("\n".join(_MARKER.sub("", line) for line in text.split("\n"))),
        "tokens": len(_TOKEN.findall(text)),
        "chars": len(text),
        "sentences": len(re.findall(r"[.!?](?:\s|$)", content)),
        "headers": headers,
        "list_items": list_items,
        "bold": bold,
        "markdown": headers + list_items + bold,
        "code_blocks": code_blocks,
        "numbers": len(_NUMBER.findall(content)),
        "hedges": len(HEDGES.findall(content)),
        "flattery": len(FLATTERY.findall(content)),
        "politeness": len(POLITENESS.findall(content)),
    }


def measure_pair(control: str, treated: str) -> tuple[dict[str, int], dict[str, int]]:
    """Both sides' measures plus ``numeric_edits``: how many numbers or units differ
    between the sides (0 on the control by definition), which a factual error must move."""
    before, after = Counter(numeric_values(control)), Counter(numeric_values(treated))
    edits = max(sum((before - after).values()), sum((after - before).values()))
    return {**measure_all(control), "numeric_edits": 0}, {
        **measure_all(treated),
        "numeric_edits": edits,
    }


def fenced_blocks(text: str) -> list[str]:
    """The fenced code blocks of a text, verbatim: a rewrite must keep them identical."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.split("\n"):
        if current is not None:
            current.append(line)
            if _FENCE.match(line):
                blocks.append("\n".join(current))
                current = None
        elif _FENCE.match(line):
            current = [line]
    if current is not None:
        blocks.append("\n".join(current))
    return blocks
