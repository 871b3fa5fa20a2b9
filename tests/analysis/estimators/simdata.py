"""Synthetic preference labels with planted effects, shared by the estimator tests."""

import numpy as np


def simulate_labels(
    rng: np.random.Generator,
    *,
    n_annotators: int = 60,
    per: int = 20,
    tau: float = 0.1,
    delta: float = 0.05,
    sd_annotator: float = 0.1,
    tau_by_group: np.ndarray | None = None,
    tie_rate: float = 0.0,
) -> dict[str, np.ndarray]:
    """Binary preferences with effect tau (or tau_by_group[group of the annotator]),
    position bias delta, annotator random intercepts, varying propensities and optional
    ties (y = 0.5). Returns per-label arrays and each annotator's group and covariates."""
    group = rng.integers(0, 3, n_annotators)
    covariates = np.column_stack([group == 1, group == 2, rng.normal(size=n_annotators)])
    annotator = np.repeat(np.arange(n_annotators), per)
    left = rng.random(annotator.size) < 0.5
    effect = np.full(n_annotators, tau) if tau_by_group is None else tau_by_group[group]
    shift = rng.normal(0, sd_annotator, n_annotators)
    p = np.clip(0.5 + (effect + shift)[annotator] + delta * (2 * left - 1), 0.01, 0.99)
    y = (rng.random(annotator.size) < p).astype(float)
    y[rng.random(y.size) < tie_rate] = 0.5
    propensity = rng.uniform(0.2, 1.0, annotator.size) / 10
    return {
        "outcome": y,
        "treated_on_left": left,
        "propensity": propensity,
        "annotator": annotator,
        "group": group,
        "covariates": covariates.astype(float),
    }


def label_arrays(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The keyword arguments of ``attribute_effect`` / ``cluster_sums``."""
    keys = ("outcome", "treated_on_left", "propensity", "annotator")
    return {k: data[k] for k in keys}
