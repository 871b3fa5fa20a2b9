"""Multiple-testing adjustment of p-values."""

from typing import Literal

import numpy as np


def adjust_pvalues(p: np.ndarray, *, method: Literal["holm", "bh"]) -> np.ndarray:
    """Adjusted p-values, in the input order.

    ``holm``: Holm's step-down procedure, controls the family-wise error rate under any
    dependence (Holm 1979, Scand. J. Statistics 6(2)). ``bh``: Benjamini-Hochberg step-up,
    controls the false discovery rate for independent or positively dependent tests
    (Benjamini and Hochberg 1995, JRSS-B 57(1)). Equal to statsmodels'
    ``multipletests(p, method="holm" | "fdr_bh")[1]``; NaNs stay NaN and are not counted.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="mergesort")
    sorted_p = q[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * sorted_p)
    elif method == "bh":
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * sorted_p[::-1])[::-1]
    else:
        raise ValueError(f"method must be 'holm' or 'bh', got {method!r}")
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(adj, 1.0)
    out[ok] = adjusted
    return out
