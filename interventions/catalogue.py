"""The built-in interventions: each transform with its direction, dose and the
manipulation check that verifies it (target measure, threshold, tolerances).

Tolerances are absolute changes, or relative to the control ({"relative": r}) for
words, which phrase-adding transforms move a little by construction. Every check holds
the markdown counts, code blocks and the other phrase lexicons still, so a hedging pair
that also flattered, or a markdown pair that lost a number, is rejected.
"""

from dataclasses import dataclass, field

_STRUCTURE = {"headers": 0, "list_items": 0, "bold": 0, "code_blocks": 0}
_PHRASES = {"hedges": 0, "flattery": 0, "politeness": 0}


@dataclass(frozen=True)
class InterventionSpec:
    name: str
    attribute: str
    transform: str
    parameters: dict
    check_measure: str
    check_threshold: float
    tolerances: dict = field(default_factory=dict)
    description: str = ""


def _phrases_except(measure: str) -> dict:
    return {k: v for k, v in _PHRASES.items() if k != measure}


CATALOGUE: tuple[InterventionSpec, ...] = (
    InterventionSpec(
        "length-shorter", "length", "length", {"direction": "shorter", "dose": 0.3},
        "words", 0.15, {**_STRUCTURE, "numbers": 0}, "Concise: redundancy dropped, leads kept.",
    ),
    InterventionSpec(
        "length-longer", "length", "length", {"direction": "longer", "dose": 0.3},
        "words", 0.15, {**_STRUCTURE, "numbers": 0}, "Elaborated: leads restated.",
    ),
    InterventionSpec(
        "markdown-add", "markdown", "markdown", {"direction": "add", "dose": 1.0},
        "markdown", 0.5, {"words": 0, "numbers": 0, "code_blocks": 0, **_PHRASES},
        "Same content as structured markdown: lists, bold labels, headers.",
    ),
    InterventionSpec(
        "markdown-remove", "markdown", "markdown", {"direction": "remove", "dose": 1.0},
        "markdown", 0.5, {"words": 0, "numbers": 0, "code_blocks": 0, **_PHRASES},
        "Same content as plain prose.",
    ),
    InterventionSpec(
        "hedging-more", "hedging", "hedging", {"direction": "more", "dose": 0.3},
        "hedges", 1.0,
        {**_STRUCTURE, "numbers": 0, "words": {"relative": 0.25}, **_phrases_except("hedges")},
        "Hedged: uncertainty qualifiers and a closing disclaimer.",
    ),
    InterventionSpec(
        "hedging-less", "hedging", "hedging", {"direction": "less", "dose": 1.0},
        "hedges", 0.5,
        {**_STRUCTURE, "numbers": 0, "words": {"relative": 0.1}, **_phrases_except("hedges")},
        "Confident: qualifiers and disclaimers removed.",
    ),
    InterventionSpec(
        "sycophancy-more", "sycophancy", "sycophancy", {"direction": "more", "dose": 0.5},
        "flattery", 1.0,
        {**_STRUCTURE, "numbers": 0, "words": {"relative": 0.25},
         **_phrases_except("flattery")},
        "Flattering: praise of the question and of the user.",
    ),
    InterventionSpec(
        "sycophancy-less", "sycophancy", "sycophancy", {"direction": "less", "dose": 1.0},
        "flattery", 0.5,
        {**_STRUCTURE, "numbers": 0, "words": {"relative": 0.1},
         **_phrases_except("flattery")},
        "Without flattery.",
    ),
    InterventionSpec(
        "factual-error", "factual_error", "factual_error", {"direction": "inject"},
        "numeric_edits", 1.0,
        {**_STRUCTURE, "numbers": 0, "words": 0, **_PHRASES},
        "One wrong number, date or unit; the details record which side and where.",
    ),
    InterventionSpec(
        "politeness-more", "politeness", "politeness", {"direction": "more", "dose": 0.5},
        "politeness", 1.0,
        {**_STRUCTURE, "numbers": 0, "words": {"relative": 0.25},
         **_phrases_except("politeness")},
        "Courteous: an acknowledgement and an offer of further help.",
    ),
    InterventionSpec(
        "politeness-less", "politeness", "politeness", {"direction": "less", "dose": 1.0},
        "politeness", 0.5,
        {**_STRUCTURE, "numbers": 0, "words": {"relative": 0.1},
         **_phrases_except("politeness")},
        "Without courtesy phrases.",
    ),
)  # fmt: skip

SPECS = {spec.name: spec for spec in CATALOGUE}

NEGATIVE_DIRECTIONS = ("shorter", "less", "remove", "off")
# A reversed intervention runs its transform the opposite way and swaps the sides.
OPPOSITE_DIRECTIONS = {
    "shorter": "longer", "longer": "shorter", "less": "more", "more": "less",
    "remove": "add", "add": "remove",
}  # fmt: skip


def is_reversed(parameters: dict) -> bool:
    """A "reverse" intervention ({"direction": "shorter", "reverse": true}): the pair is
    the opposite direction's pair read backwards. The transform makes the *control* (e.g.
    the answer lengthened by restatement) and the original answer is the *treated* side,
    so the treated text is the model's own and the change is exactly the one the opposite
    transform made, undone."""
    return bool(parameters.get("reverse"))


def direction_sign(parameters: dict) -> int:
    """+1 when the transform should raise its measure, -1 when it should lower it."""
    return -1 if parameters.get("direction") in NEGATIVE_DIRECTIONS else 1
