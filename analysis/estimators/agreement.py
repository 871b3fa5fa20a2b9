"""Agreement between annotators on replicated stimuli, and per-annotator quality."""

from dataclasses import dataclass
from typing import Literal

import numpy as np


def _value_counts(unit: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Counts (units, distinct values) of how often each unit received each value."""
    _, u = np.unique(np.asarray(unit), return_inverse=True)
    _, v = np.unique(np.asarray(value), return_inverse=True)
    n_values = int(v.max()) + 1 if v.size else 0
    n_units = int(u.max()) + 1 if u.size else 0
    return np.bincount(u * n_values + v, minlength=n_units * n_values).reshape(n_units, n_values)


def krippendorff_alpha(
    *, unit: np.ndarray, value: np.ndarray, level: Literal["nominal", "ordinal"]
) -> float:
    """Krippendorff's alpha from long data: one row per label (its stimulus and value).

    Estimand: 1 - D_o / D_e, observed over chance-expected disagreement among the values
    given to the same unit (1 perfect agreement, 0 chance, < 0 systematic disagreement).
    Use ``nominal`` for choices coded relative to the stimulus (treated / control / tie,
    not left / right, which the randomised order scrambles) and ``ordinal`` for signed
    strength. Units with fewer than two labels are not pairable and are ignored; the value
    domain is the set of values observed. Equal to ``krippendorff.alpha`` on the same data.
    Assumes labels on a unit are exchangeable. Reference: Krippendorff (2011), "Computing
    Krippendorff's alpha-reliability", and Krippendorff (2019), Content Analysis, ch. 12.
    """
    counts = _value_counts(unit, value).astype(float)
    m = counts.sum(1)
    counts, m = counts[m >= 2], m[m >= 2]
    if counts.size == 0:
        return float("nan")
    # Coincidences: each ordered pair of labels within a unit, weighted 1/(m_u - 1).
    o = np.einsum("ui,uj->ij", counts / (m - 1)[:, None], counts)
    o -= np.diag((counts / (m - 1)[:, None]).sum(0))
    n_v = o.sum(0)
    n = n_v.sum()
    e = (np.outer(n_v, n_v) - np.diag(n_v)) / (n - 1)
    if level == "nominal":
        d = 1.0 - np.eye(n_v.size)
    elif level == "ordinal":
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        lo = np.minimum.outer(np.arange(n_v.size), np.arange(n_v.size))
        hi = np.maximum.outer(np.arange(n_v.size), np.arange(n_v.size))
        d = (cum[hi + 1] - cum[lo] - (n_v[lo] + n_v[hi]) / 2) ** 2
    else:
        raise ValueError(f"level must be 'nominal' or 'ordinal', got {level!r}")
    expected = (e * d).sum()
    return float(1.0 - (o * d).sum() / expected) if expected > 0 else float("nan")


@dataclass(frozen=True)
class AnnotatorQuality:
    """Per annotator (sorted ids): attention-check accuracy and majority agreement."""

    annotator: np.ndarray
    n_checks: np.ndarray
    check_accuracy: np.ndarray  # NaN without checks
    n_compared: np.ndarray
    majority_agreement: np.ndarray  # NaN without a comparable label


def annotator_quality(
    *,
    annotator: np.ndarray,
    unit: np.ndarray,
    value: np.ndarray,
    is_check: np.ndarray,
    correct_value: np.ndarray,
) -> AnnotatorQuality:
    """Attention-check accuracy and agreement with the leave-one-out majority.

    Check accuracy: the share of an annotator's attention checks answered with the
    correct value. Majority agreement: over the annotator's labels on replicated
    (non-check) stimuli, the share equal to the most frequent value among the *other*
    annotators' labels on that stimulus; labels whose stimulus has no other label, or
    whose leave-one-out majority is tied, are not compared. Leaving the annotator out
    keeps a lone dissenter from agreeing with themselves. Descriptive, no model; a low
    value flags inattention or a different reading of the task, not a cause.
    Reference: Snow, O'Connor, Jurafsky and Ng (2008), "Cheap and fast, but is it good?",
    EMNLP (agreement with the majority of other annotators).
    """
    ids, a = np.unique(np.asarray(annotator), return_inverse=True)
    g = len(ids)
    check = np.asarray(is_check, dtype=bool)
    value = np.asarray(value)
    hits = check & (value == np.asarray(correct_value))
    n_checks = np.bincount(a[check], minlength=g)
    accuracy = np.bincount(a[hits], minlength=g) / np.where(n_checks > 0, n_checks, np.nan)

    rest = ~check
    _, u = np.unique(np.asarray(unit)[rest], return_inverse=True)
    _, v = np.unique(value[rest], return_inverse=True)
    counts = _value_counts(u, v)
    others = counts[u].copy()
    others[np.arange(u.size), v] -= 1
    top = others.max(1)
    unique_top = (others == top[:, None]).sum(1) == 1
    comparable = (top > 0) & unique_top
    agree = comparable & (others.argmax(1) == v)
    n_compared = np.bincount(a[rest][comparable], minlength=g)
    agreement = np.bincount(a[rest][agree], minlength=g) / np.where(
        n_compared > 0, n_compared, np.nan
    )
    return AnnotatorQuality(ids, n_checks, accuracy, n_compared, agreement)
