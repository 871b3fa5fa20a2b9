"""Main effects and two-way interactions when a stimulus applies several interventions."""

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from analysis.estimators.effects import Effect, normal_effect
from analysis.estimators.wls import Vcov, wls_cluster


@dataclass(frozen=True)
class FactorialEffects:
    """Named effects: each intervention alone, then ``"a:b"`` interactions."""

    names: tuple[str, ...]
    effects: tuple[Effect, ...]
    position_bias: Effect
    n: int
    n_clusters: int

    def __getitem__(self, name: str) -> Effect:
        return self.effects[self.names.index(name)]


def factorial_effects(
    *,
    outcome: np.ndarray,
    treatment: np.ndarray,
    treated_on_left: np.ndarray,
    propensity: np.ndarray,
    annotator: np.ndarray,
    names: list[str],
    interactions: bool = True,
    level: float = 0.95,
    vcov: Vcov = "CR1",
) -> FactorialEffects:
    """Effects of each intervention and their pairwise interactions in a factorial set.

    Each label compares the control response with a treated response whose treatment
    vector T (one 0/1 entry per intervention) may set several interventions. Estimand: in
    P(prefer treated) - 1/2 = sum_j tau_j T_j + sum_{j<k} tau_jk T_j T_k + b (2L - 1),
    tau_j is the effect of intervention j applied alone and tau_jk the departure from
    additivity when j and k are applied together (0 when their effects add up). Fitted by
    weighted least squares (weights 1/propensity, no intercept: an untreated pair has no
    effect) with CR1 (or CR2) variance by annotator; interaction columns that never occur
    are left out. Assumes the pairs realised cover each single intervention, and
    propensities are the true assignment probabilities.
    Reference: Hainmueller, Hopkins and Yamamoto (2014), Political Analysis 22(1),
    section on interactions; Egami and Imai (2019), "Causal interaction in factorial
    experiments", JASA 114(526).
    """
    t = np.asarray(treatment, dtype=float)
    if t.ndim != 2 or t.shape[1] != len(names):
        raise ValueError(
            f"treatment must be (labels, interventions) with {len(names)} columns to match names"
        )
    columns, labels = [t[:, j] for j in range(t.shape[1])], list(names)
    if interactions:
        for j, k in combinations(range(t.shape[1]), 2):
            product = t[:, j] * t[:, k]
            if product.any():
                columns.append(product)
                labels.append(f"{names[j]}:{names[k]}")
    side = 2.0 * np.asarray(treated_on_left, dtype=float) - 1.0
    x = np.column_stack([*columns, side])
    y = np.asarray(outcome, dtype=float) - 0.5
    w = 1.0 / np.asarray(propensity, dtype=float)
    fit = wls_cluster(x, y, w, np.asarray(annotator), vcov=vcov)
    se = fit.se
    effects = tuple(
        normal_effect(float(fit.params[i]), float(se[i]), 0.0, level) for i in range(len(labels))
    )
    return FactorialEffects(
        names=tuple(labels),
        effects=effects,
        position_bias=normal_effect(float(fit.params[-1]), float(se[-1]), 0.0, level),
        n=fit.n,
        n_clusters=fit.n_clusters,
    )
