"""Bradley-Terry model strengths with style control (Chatbot Arena), for model comparisons."""

from dataclasses import dataclass
from typing import Literal

import numpy as np

from analysis.estimators.logit import logit_cluster
from analysis.estimators.wls import Vcov

ELO_SCALE = 400.0 / np.log(10.0)


@dataclass(frozen=True)
class BradleyTerryFit:
    """Log-strengths (reference model fixed at 0) and style coefficients with SEs."""

    models: tuple[str, ...]
    strength: np.ndarray
    strength_se: np.ndarray
    style_names: tuple[str, ...]
    style: np.ndarray  # effect of one SD of each normalised style difference, log-odds
    style_se: np.ndarray
    n: int
    converged: bool

    def elo(self, *, base: float = 1000.0) -> np.ndarray:
        """Strengths on the Elo scale (400 points = 10:1 odds), reference at ``base``."""
        return base + ELO_SCALE * self.strength


def style_features(*, style_a: np.ndarray, style_b: np.ndarray) -> np.ndarray:
    """Chatbot Arena's style features: d = (a - b) / (a + b + 1), z-scored per column.

    a, b are non-negative counts (tokens, headers, list items, bold spans) of each side;
    the normalised difference keeps long answers from dominating, the z-score puts the
    coefficients on one scale. Constant columns are left at 0.
    """
    a = np.asarray(style_a, dtype=float)
    b = np.asarray(style_b, dtype=float)
    d = (a - b) / (a + b + 1.0)
    sd = d.std(0)
    return (d - d.mean(0)) / np.where(sd > 0, sd, 1.0)


def bradley_terry(
    *,
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    style_a: np.ndarray | None = None,
    style_b: np.ndarray | None = None,
    style_names: list[str] | None = None,
    ties: Literal["half", "exclude"] = "half",
    reference: str | None = None,
    groups: np.ndarray | None = None,
    vcov: Vcov | None = None,
) -> BradleyTerryFit:
    """Bradley-Terry strengths of the compared models, controlling for style.

    Estimand: beta in logit P(a beats b) = beta_a - beta_b + gamma' d, d the z-scored
    normalised style differences (``style_features``); beta is each model's strength net
    of style (what remains of a model's wins once length and formatting are accounted
    for), gamma the style effects. ``outcome`` is 1 when a wins, 0 when b wins, 0.5 for a
    tie: ``ties='half'`` keeps ties as half a win each (a quasi-likelihood fit),
    ``'exclude'`` drops them. ``reference`` (default: first model in sorted order) is fixed
    at 0 to identify the strengths. Fitted by maximum likelihood (Newton); SEs from the
    inverse Hessian (``vcov=None``) or cluster-robust by ``groups`` (e.g. annotator,
    ``'CR1'``/``'CR2'``). Assumes a connected comparison graph and no model that never
    loses (then the strength is infinite and ``converged`` is False).
    Reference: Bradley and Terry (1952), Biometrika 39(3/4); Chiang et al. (2024),
    "Chatbot Arena", ICML, and LMSYS (2024), "Does style matter? Disentangling style and
    substance in Chatbot Arena".
    """
    y = np.asarray(outcome, dtype=float)
    if ties not in ("half", "exclude"):
        raise ValueError(f"ties must be 'half' or 'exclude', got {ties!r}")
    keep = y != 0.5 if ties == "exclude" else np.ones(y.shape, dtype=bool)
    a, b, y = np.asarray(model_a)[keep], np.asarray(model_b)[keep], y[keep]
    models, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = index[: a.size], index[a.size :]
    ref = 0 if reference is None else int(np.flatnonzero(models == reference)[0])
    x = np.zeros((y.size, models.size))
    x[np.arange(y.size), ia] += 1.0
    x[np.arange(y.size), ib] -= 1.0
    x = np.delete(x, ref, axis=1)
    names: tuple[str, ...] = ()
    if style_a is not None and style_b is not None:
        d = style_features(style_a=np.asarray(style_a)[keep], style_b=np.asarray(style_b)[keep])
        d = d.reshape(y.size, -1)
        names = tuple(style_names or [f"style_{j}" for j in range(d.shape[1])])
        x = np.column_stack([x, d])
    g = None if groups is None else np.asarray(groups)[keep]
    fit = logit_cluster(x, y, g, vcov=vcov)
    k = models.size - 1
    se = fit.se
    strength = np.insert(fit.params[:k], ref, 0.0)
    strength_se = np.insert(se[:k], ref, 0.0)
    return BradleyTerryFit(
        models=tuple(str(m) for m in models),
        strength=strength,
        strength_se=strength_se,
        style_names=names,
        style=fit.params[k:],
        style_se=se[k:],
        n=int(y.size),
        converged=fit.converged,
    )
