"""Latent preference classes: a finite mixture of logit models over annotators, by EM.

For heterogeneity that no recorded covariate explains: each annotator belongs to one of
K unobserved classes with probability pi_c, and within class c every label of theirs
follows logit P(y = 1) = x'b_c (x, say, an intercept per intervention and the side
2L - 1). All of an annotator's labels share the class, so the likelihood of annotator a
is sum_c pi_c prod_i p_c(y_i | x_i). K is chosen by BIC with the annotators as the
sample size (they, not the labels, are the independent units).
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from analysis.estimators.grouping import factorize


@dataclass(frozen=True)
class LatentClassFit:
    k: int
    weights: np.ndarray  # (K,) class shares pi_c, classes sorted by their first coefficient
    coefficients: np.ndarray  # (K, p) b_c
    posterior: np.ndarray  # (G, K) P(class | annotator's labels), annotators in sorted order
    annotators: np.ndarray  # (G,) the sorted annotator ids
    log_likelihood: float
    bic: float
    converged: bool

    @property
    def n_parameters(self) -> int:
        return self.coefficients.size + self.k - 1


@dataclass(frozen=True)
class LatentClassSelection:
    best: LatentClassFit
    fits: tuple[LatentClassFit, ...]  # K = 1, 2, ..., max_classes


def _cell_loglik(x: np.ndarray, s: np.ndarray, n: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per cell and class: s log p + (n - s) log(1 - p), p = expit(x b), for a cell of n
    labels with the same design row and s the sum of their outcomes (ties count 1/2)."""
    eta = x @ b.T  # (cells, K)
    return s[:, None] * log_expit(eta) + (n - s)[:, None] * log_expit(-eta)


def _weighted_logit(
    x: np.ndarray, s: np.ndarray, n: np.ndarray, w: np.ndarray, b: np.ndarray, steps: int = 25
) -> np.ndarray:
    """Newton's method for the logit of cells (s successes of n) weighted by ``w``."""
    for _ in range(steps):
        p = expit(x @ b)
        grad = x.T @ (w * (s - n * p))
        hess = (x * (w * n * p * (1 - p))[:, None]).T @ x + 1e-10 * np.eye(len(b))
        step = np.linalg.solve(hess, grad)
        b = b + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return b


def _em(
    x: np.ndarray,
    s: np.ndarray,
    n: np.ndarray,
    index: np.ndarray,
    g: int,
    k: int,
    rng: np.random.Generator,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    # Start from a random soft assignment of annotators to classes.
    post = rng.dirichlet(np.ones(k), g)
    b = np.zeros((k, x.shape[1]))
    weights = post.mean(0)
    previous, converged = -np.inf, False
    for _ in range(max_iter):
        # M-step: class shares and one weighted logit per class.
        weights = post.mean(0)
        for c in range(k):
            b[c] = _weighted_logit(x, s, n, post[index, c], b[c])
        # E-step: each annotator's log-likelihood under each class, summed over labels.
        per_annotator = np.zeros((g, k))
        np.add.at(per_annotator, index, _cell_loglik(x, s, n, b))
        joint = per_annotator + np.log(np.maximum(weights, 1e-300))
        total = logsumexp(joint, axis=1)
        post = np.exp(joint - total[:, None])
        loglik = float(total.sum())
        if loglik - previous < tol * (1 + abs(loglik)):
            converged = True
            break
        previous = loglik
    return weights, b, post, loglik, converged


def latent_class_logit(
    *,
    outcome: np.ndarray,
    design: np.ndarray,
    annotator: np.ndarray,
    k: int,
    rng: np.random.Generator,
    starts: int = 10,
    max_iter: int = 500,
    tol: float = 1e-10,
) -> LatentClassFit:
    """The K-class mixture of logits by annotator, best of ``starts`` EM runs.

    Estimand: the class shares and each class's logit coefficients (labels ordered by the
    first coefficient, so the fit does not depend on the start). With K = 1 it is the
    pooled logit (equal to statsmodels' ``Logit(y, design).fit().params``). EM climbs the
    likelihood but may stop at a local maximum: several random starts guard against it.
    Classes are identified up to their likelihood; with few labels per annotator the
    posterior class of an annotator is uncertain (read ``posterior``). No standard errors
    (the mixture's information matrix is unreliable near the boundary); bootstrap the
    annotators for intervals. Reference: McLachlan and Peel (2000), Finite Mixture
    Models, ch. 2-3; Wedel and DeSarbo (1995), J. Classification 12(1).
    """
    y = np.asarray(outcome, dtype=float)
    x = np.asarray(design, dtype=float)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ids, index = factorize(np.asarray(annotator))
    g = len(ids)
    if g < k:
        raise ValueError(f"{k} classes need at least {k} annotators, found {g}")
    # Labels of one annotator with the same design row share their likelihood terms:
    # fold them into cells (with an intercept per intervention and the side, at most
    # 2 x interventions cells per annotator), so EM costs cells, not labels.
    rows, row_index = np.unique(x, axis=0, return_inverse=True)
    cell_ids, cell = np.unique(index * len(rows) + row_index.reshape(-1), return_inverse=True)
    n = np.bincount(cell).astype(float)
    s = np.bincount(cell, weights=y)
    x_cells, owner = rows[cell_ids % len(rows)], cell_ids // len(rows)
    best = None
    for _ in range(starts if k > 1 else 1):
        result = _em(x_cells, s, n, owner, g, k, rng, max_iter, tol)
        if best is None or result[3] > best[3]:
            best = result
    assert best is not None
    weights, b, post, loglik, converged = best
    order = np.argsort(b[:, 0])
    n_params = b.size + k - 1
    return LatentClassFit(
        k=k,
        weights=weights[order],
        coefficients=b[order],
        posterior=post[:, order],
        annotators=ids,
        log_likelihood=loglik,
        bic=-2 * loglik + n_params * np.log(g),
        converged=converged,
    )


def latent_classes_select(
    *,
    outcome: np.ndarray,
    design: np.ndarray,
    annotator: np.ndarray,
    rng: np.random.Generator,
    max_classes: int = 4,
    starts: int = 10,
) -> LatentClassSelection:
    """Fit K = 1..max_classes and keep the one with the smallest BIC
    (-2 log L + parameters x log(annotators))."""
    fits = tuple(
        latent_class_logit(
            outcome=outcome, design=design, annotator=annotator, k=k, rng=rng, starts=starts
        )
        for k in range(1, max_classes + 1)
    )
    return LatentClassSelection(best=min(fits, key=lambda f: f.bic), fits=fits)
