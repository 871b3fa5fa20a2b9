"""Factual error: the same answer with exactly one verifiable error in a number, a date
or a unit, and a record of what changed and where.

One candidate is drawn uniformly from the numbers and units in prose (never in code,
tables, quotes, headers or list markers, nor ordinals like "Step 2"): a year moves by 1
to 9 years, another number by 20% to 100% (small counts by 1 to 3), a unit is swapped
for a different one of the same dimension (km -> miles). ``apply_detailed`` returns the
text and the record that the export carries, so a dataset user knows which side is
wrong and where.
"""

import re
from dataclasses import dataclass

import numpy as np

from interventions.transforms.blocks import Block, join_blocks, split_blocks

NAME = "factual_error"
VERSION = "2"
DIRECTIONS = ("inject",)
KINDS = ("any", "number", "date", "unit")
_NUMBER = re.compile(
    r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w,]\d)|(?<![\w.,])\d+(?:\.\d+)?(?![\w.]\d|\w)"
)
_SWAPS = {
    "km": "miles", "miles": "km", "kilometers": "miles", "kilometres": "miles",
    "meters": "feet", "metres": "feet", "feet": "meters", "cm": "inches", "inches": "cm",
    "kg": "pounds", "pounds": "kg", "kilograms": "pounds", "grams": "ounces",
    "ounces": "grams", "°C": "°F", "°F": "°C", "celsius": "fahrenheit", "Celsius": "Fahrenheit",
    "fahrenheit": "celsius", "Fahrenheit": "Celsius", "liters": "gallons", "litres": "gallons",
    "gallons": "liters", "mph": "km/h", "seconds": "minutes", "minutes": "hours",
    "hours": "days", "days": "weeks", "weeks": "months", "months": "years", "years": "decades",
    "GB": "MB", "MB": "GB", "KB": "MB", "TB": "GB",
}  # fmt: skip
_LABEL = re.compile(
    r"\b(?:step|phase|stage|outcome|chapter|part|section|option|method|example|level|"
    r"question|figure|table|item|point|day|week|round|version|v)\s*$",
    re.IGNORECASE,
)
_UNIT = re.compile(
    r"(?<=\d)(\s?)("
    + "|".join(re.escape(u) for u in sorted(_SWAPS, key=len, reverse=True))
    + r")(?![\w/])"
)


@dataclass(frozen=True)
class _Candidate:
    block: int
    start: int
    end: int
    kind: str
    original: str


def apply(
    text: str, *, rng: np.random.Generator, direction: str = "inject", kind: str = "any"
) -> str:
    return apply_detailed(text, rng=rng, direction=direction, kind=kind)[0]


def apply_detailed(
    text: str, *, rng: np.random.Generator, direction: str = "inject", kind: str = "any"
) -> tuple[str, dict]:
    """The treated text and a record of the one error: its kind, the original and the
    replacement, the character offset in the treated text and the sentence around it.
    Text without any candidate comes back unchanged with an empty record."""
    if direction not in DIRECTIONS:
        raise ValueError(f"factual_error: direction must be one of {DIRECTIONS}, not {direction!r}")
    if kind not in KINDS:
        raise ValueError(f"factual_error: kind must be one of {KINDS}, not {kind!r}")
    blocks = split_blocks(text)
    candidates = [c for c in _candidates(blocks) if kind in ("any", c.kind)]
    if not candidates:
        return text, {}
    chosen = candidates[int(rng.integers(len(candidates)))]
    replacement = _replace(chosen, rng)
    body = blocks[chosen.block].body
    new_body = body[: chosen.start] + replacement + body[chosen.end :]
    out = list(blocks)
    out[chosen.block] = Block("prose", blocks[chosen.block].prefix, new_body)
    offset = len(join_blocks(out[: chosen.block])) + (1 if chosen.block else 0)
    offset += len(blocks[chosen.block].prefix) + chosen.start
    return join_blocks(out), {
        "erroneous_side": "treated",
        "kind": chosen.kind,
        "original": chosen.original,
        "replacement": replacement,
        "offset": offset,
        "context": new_body.strip()[:300],
    }


_URL = re.compile(r"(?:https?://|www\.)\S+")
_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”")


def _candidates(blocks: list[Block]) -> list[_Candidate]:
    found = []
    for i, block in enumerate(blocks):
        if block.kind != "prose":
            continue
        # A quotation is quoted as it was, errors and all; a URL is an address, not a fact.
        quoted = [m.span() for m in _QUOTED.finditer(block.body)]
        quoted += [m.span() for m in _URL.finditer(block.body)]
        for m in _NUMBER.finditer(block.body):
            if _LABEL.search(block.body[: m.start()]):
                continue  # "Step 2" or "Outcome 3" numbers a part; changing it is no error
            if any(a <= m.start() < b for a, b in quoted):
                continue
            if re.search(r"[A-Za-z]-$", block.body[: m.start()]):
                continue  # "GPT-3", "COVID-19": part of a name
            value = m.group(0)
            year = re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", value) is not None
            found.append(_Candidate(i, m.start(), m.end(), "date" if year else "number", value))
        for m in _UNIT.finditer(block.body):
            if any(a <= m.start() < b for a, b in quoted):
                continue
            found.append(_Candidate(i, m.start(2), m.end(2), "unit", m.group(2)))
    return found


def _replace(candidate: _Candidate, rng: np.random.Generator) -> str:
    if candidate.kind == "unit":
        return _SWAPS[candidate.original]
    if candidate.kind == "date":
        shift = int(rng.integers(1, 10)) * (1 if rng.random() < 0.5 else -1)
        return str(int(candidate.original) + shift)
    raw = candidate.original.replace(",", "")
    decimals = len(raw.split(".")[1]) if "." in raw else 0
    value = float(raw)
    if decimals == 0 and value < 10:
        new = value + int(rng.integers(1, 4))
    else:
        new = value * (1 + rng.uniform(0.2, 1.0))
        step = 10.0**-decimals
        new = max(round(new / step) * step, value + step)
    text = f"{new:,.{decimals}f}" if "," in candidate.original else f"{new:.{decimals}f}"
    return text
