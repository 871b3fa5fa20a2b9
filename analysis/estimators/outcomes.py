"""From recorded choices to the outcome y the estimators use: the tie and strength settings."""

from typing import Literal

import numpy as np

Ties = Literal["half", "exclude"]
Strength = Literal["ignore", "graded"]


def preference_outcome(
    *,
    treated_chosen: np.ndarray,
    tie: np.ndarray,
    strength: np.ndarray | None = None,
    ties: Ties = "half",
    strength_mode: Strength = "ignore",
    max_strength: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """The outcome y in [0, 1] per label and the mask of labels to keep.

    ``ties='half'`` scores a tie 0.5 (it counts, as indifference); ``'exclude'`` drops it
    (the estimand becomes P(prefer treated | not a tie) - 1/2). ``strength_mode='ignore'``
    gives y in {0, 0.5, 1}; ``'graded'`` maps a strength s in 1..max_strength to
    y = 1/2 +- s / (2 max_strength), so the effect is on the expected graded preference
    (still in [0, 1], so every estimator and the confidence sequence apply unchanged).
    """
    chosen = np.asarray(treated_chosen, dtype=bool)
    is_tie = np.asarray(tie, dtype=bool)
    if ties not in ("half", "exclude"):
        raise ValueError(f"ties must be 'half' or 'exclude', got {ties!r}")
    if strength_mode == "graded":
        if strength is None:
            raise ValueError("strength_mode='graded' needs the strength of each label")
        s = np.asarray(strength, dtype=float)
        if np.any((s < 1) | (s > max_strength)):
            raise ValueError(f"strength must lie in 1..{max_strength}; set max_strength")
        half_width = s / (2.0 * max_strength)
    elif strength_mode == "ignore":
        half_width = np.full(chosen.shape, 0.5)
    else:
        raise ValueError(f"strength_mode must be 'ignore' or 'graded', got {strength_mode!r}")
    y = np.where(chosen, 0.5 + half_width, 0.5 - half_width)
    y = np.where(is_tie, 0.5, y)
    keep = ~is_tie if ties == "exclude" else np.ones(y.shape, dtype=bool)
    return y, keep
