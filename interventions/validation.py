"""Pretests by people: the manipulation-check question asked about each intervention's
pairs, and the record of their verdicts on the stimulus (the collection app runs the
pretest studies and computes the verdicts)."""

from interventions.catalogue import NEGATIVE_DIRECTIONS
from interventions.models import Intervention, Stimulus

# "Which response is ___?" for the treated side, by attribute and raising/lowering it.
_WORDING: dict[str, tuple[str, str]] = {
    "length": ("longer (says the same at more length)", "shorter (says the same more briefly)"),
    "markdown": (
        "more formatted (lists, headings, bold)",
        "less formatted (plain prose, fewer lists, headings or bold)",
    ),
    "hedging": ("more hedged (less certain)", "less hedged (more confident)"),
    "sycophancy": ("more flattering to the user", "less flattering to the user"),
    "politeness": ("more polite", "less polite"),
}
DEFAULT_SAME_QUESTION = "Apart from that, do they say the same thing?"


def check_question(*, intervention: Intervention | None, cell: str) -> str:
    """The question whose right answer is the treated side: the intervention's own
    ``check_question`` when set, else one derived from its attribute and direction."""
    if intervention is None:
        return f"Which response shows the change '{cell}'?"
    if intervention.check_question.strip():
        return intervention.check_question.strip()
    if intervention.attribute == "factual_error":
        return "Which response contains a factual error?"
    lower = intervention.parameters.get("direction") in NEGATIVE_DIRECTIONS
    wording = _WORDING.get(intervention.attribute)
    if wording is None:
        return f"Which response has {'less' if lower else 'more'} {intervention.attribute}?"
    return f"Which response is {wording[1] if lower else wording[0]}?"


def check_question_for_stimulus(*, stimulus_id: int) -> str:
    cell = Stimulus.objects.values_list("cell", flat=True).get(pk=stimulus_id)
    return check_question(intervention=Intervention.objects.filter(name=cell).first(), cell=cell)


def stimulus_validation_record(
    *, stimulus_id: int, status: str, n: int, identified: int, same_meaning: int
) -> None:
    """Write a pretest verdict and its counts on the stimulus (the pool and the export
    read them from there)."""
    Stimulus.objects.filter(pk=stimulus_id).update(
        validation_status=status,
        validation_n=n,
        validation_identified=identified,
        validation_same_meaning=same_meaning,
    )
