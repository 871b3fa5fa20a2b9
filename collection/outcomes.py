"""The outcome y of a label under a study's settings: one definition for the live
estimates, the results page and every export."""

from collection.models import Label, Study

STRENGTH_LEVELS = 3


def label_outcome(
    *, choice: str, strength: int, treated_on_left: bool, ties: str, strength_mode: str
) -> float | None:
    """y in [0, 1]: 1 when the treated response was preferred, 0 when the control was.

    A tie is 0.5, or None (left out) when the study excludes ties. With graded strength a
    preference held with strength s of 3 moves y from 1/2 by s/6, so "much better" is 0 or
    1 and "slightly better" 1/3 or 2/3; the effect then reads as a shift on that scale.
    """
    if choice == Label.Choice.TIE:
        return None if ties == Study.Ties.EXCLUDE else 0.5
    treated_won = (choice == Label.Choice.LEFT) == treated_on_left
    if strength_mode == Study.Strength.GRADED:
        shift = strength / (2 * STRENGTH_LEVELS)
        return 0.5 + shift if treated_won else 0.5 - shift
    return 1.0 if treated_won else 0.0
