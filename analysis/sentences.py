"""One plain-language sentence per estimate row, for readers who do not speak in estimands.

Every effect is a difference from chance (1/2) on the probability scale, so it reads as
percentage points: +0.06 is "6 points more often than chance". A row without an interval
says why instead of pretending to certainty, and an interval that covers 0 is "no clear
difference" whatever the sign of the point.
"""

from dataclasses import dataclass

# What the treated response is, for the built-in catalogue (interventions.catalogue).
TREATED = {
    "length-longer": "the longer answer",
    "length-shorter": "the shorter answer",
    "markdown-add": "the answer formatted as markdown",
    "markdown-remove": "the answer in plain prose",
    "hedging-more": "the more hedged answer",
    "hedging-less": "the more confident answer",
    "sycophancy-more": "the flattering answer",
    "sycophancy-less": "the answer without flattery",
    "factual-error": "the answer with a factual error",
}


def treated_phrase(intervention: str) -> str:
    return TREATED.get(intervention, f"the treated answer ({intervention})")


@dataclass(frozen=True)
class RowFigures:
    """What a sentence needs of an estimate row (analysis.models.Estimate has these)."""

    intervention: str
    estimand: str  # "amce" or "position_bias"
    weighting: str  # "label" or "annotator"
    subgroup: str  # "all" or "question=level"
    point: float
    ci_low: float | None
    ci_high: float | None
    note: str = ""


def _points(value: float) -> int:
    return round(100 * value)


def _how_often(points: int) -> str:
    if points == 0:
        return "as often as chance would"
    return f"{abs(points)} point{'s' if abs(points) != 1 else ''} " + (
        "more often than chance" if points > 0 else "less often than chance"
    )


def row_sentence(row: RowFigures) -> str:
    """E.g. "Annotators preferred the longer answer 6 points more often than chance (95% CI
    2 to 10)." for an attribute effect of +0.06 with interval [0.02, 0.10]."""
    if row.estimand == "position_bias":
        who, did = "Annotators", "picked the answer shown on the left"
    else:
        who = "The average annotator" if row.weighting == "annotator" else "Annotators"
        did = f"preferred {treated_phrase(row.intervention)}"
    if row.subgroup != "all":
        question, _, level = row.subgroup.partition("=")
        who = f"Among annotators who answered {level} to {question}, {who[0].lower()}{who[1:]}"
    points = _points(row.point)
    if row.ci_low is None or row.ci_high is None:
        why = row.note or "not estimable"
        return f"{who} {did} {_how_often(points)}, but there is no interval yet: {why}."
    low, high = _points(row.ci_low), _points(row.ci_high)
    interval = f"95% CI {low} to {high}"
    if row.ci_low <= 0 <= row.ci_high:
        return (
            f"No clear difference: {who[0].lower()}{who[1:]} {did} {_how_often(points)}, "
            f"and the interval includes no difference ({interval})."
        )
    return f"{who} {did} {_how_often(points)} ({interval})."
