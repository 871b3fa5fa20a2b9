"""Group codes for raw label arrays (the step every estimator's sums start from)."""

import numpy as np


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values and each entry's index into them, like
    ``np.unique(values, return_inverse=True)``, in O(n) for small non-negative integer codes
    (database ids), where sorting a million labels would dominate a refresh."""
    v = np.asarray(values)
    if v.size and v.dtype.kind in "iu" and v.min() >= 0 and v.max() < 4 * v.size + 1024:
        present = np.bincount(v) > 0
        ids = np.flatnonzero(present).astype(v.dtype)
        return ids, (np.cumsum(present) - 1)[v]
    ids, index = np.unique(v, return_inverse=True)
    return ids, index.reshape(-1)
