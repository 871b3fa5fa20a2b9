"""The manipulation check: did the target attribute move, and nothing else?"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str


def manipulation_check(
    *,
    control: dict[str, float],
    treated: dict[str, float],
    measure: str,
    threshold: float,
    direction: int,
    tolerances: dict[str, float],
) -> CheckResult:
    """Pass when ``measure`` moved by at least ``threshold`` (relative to the control, in
    the sign of ``direction``) and every measure in ``tolerances`` moved by at most its
    tolerance (absolute)."""
    base = max(abs(control[measure]), 1.0)
    moved = direction * (treated[measure] - control[measure]) / base
    if moved < threshold:
        return CheckResult(
            False,
            f"target {measure} moved {moved:+.2f} (relative), needs at least {threshold:+.2f}",
        )
    for name, tolerance in sorted(tolerances.items()):
        change = abs(treated[name] - control[name])
        if change > tolerance:
            return CheckResult(False, f"{name} changed by {change:g}, tolerance is {tolerance:g}")
    return CheckResult(True, "")
