"""The manipulation check: did the target attribute move, and nothing else?"""

from collections.abc import Mapping
from dataclasses import dataclass

from interventions.measures import fenced_blocks, measure_pair


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str


def _allowed(tolerance: float | Mapping[str, float], control: float) -> float:
    """A tolerance is absolute (a number) or relative ({"relative": r}: r times the
    control's value, at least 1), for measures like words that scale with the answer."""
    if isinstance(tolerance, Mapping):
        return float(tolerance["relative"]) * max(abs(control), 1.0)
    return float(tolerance)


def manipulation_check(
    *,
    control: Mapping[str, float],
    treated: Mapping[str, float],
    measure: str,
    threshold: float,
    direction: int,
    tolerances: Mapping[str, float | Mapping[str, float]],
) -> CheckResult:
    """Pass when ``measure`` moved by at least ``threshold`` (relative to the control, in
    the sign of ``direction``) and every measure in ``tolerances`` moved by at most its
    tolerance (absolute, or relative to the control when given as {"relative": r})."""
    base = max(abs(control[measure]), 1.0)
    moved = direction * (treated[measure] - control[measure]) / base
    if moved < threshold:
        return CheckResult(
            False,
            f"target {measure} moved {moved:+.2f} (relative), needs at least {threshold:+.2f}",
        )
    for name, tolerance in sorted(tolerances.items()):
        if name == measure:
            continue
        change = abs(treated[name] - control[name])
        allowed = _allowed(tolerance, control[name])
        if change > allowed:
            return CheckResult(False, f"{name} changed by {change:g}, tolerance is {allowed:g}")
    return CheckResult(True, "")


@dataclass(frozen=True)
class PairCheck:
    measures_control: dict[str, int]
    measures_treated: dict[str, int]
    result: CheckResult


def pair_check(
    *,
    control: str,
    treated: str,
    measure: str,
    threshold: float,
    direction: int,
    tolerances: Mapping[str, float | Mapping[str, float]],
) -> PairCheck:
    """Measure both texts and run the manipulation check; an unchanged text fails, and so
    does one whose fenced code differs (rules never touch code; an LLM rewrite might)."""
    measures_control, measures_treated = measure_pair(control, treated)
    if treated == control:
        result = CheckResult(False, "the transform left the text unchanged")
    elif fenced_blocks(treated) != fenced_blocks(control):
        result = CheckResult(False, "code blocks were altered; they must stay verbatim")
    else:
        result = manipulation_check(
            control=measures_control,
            treated=measures_treated,
            measure=measure,
            threshold=threshold,
            direction=direction,
            tolerances=tolerances,
        )
    return PairCheck(measures_control, measures_treated, result)
