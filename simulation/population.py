"""Synthetic annotator populations, read from TOML and drawn with an explicit RNG.

A population says who the annotators are (covariates drawn from stated distributions,
some of which may go unrecorded) and how they choose between two responses:

    P(left) = expit(sum_k taste_k * d_k + position_bias + noise * z),   z ~ N(0, 1)

where d_k is +1 when the left response has noticeably more of attribute k (its measure
exceeds the other side's by the attribute's relative threshold), -1 when the right one
has, 0 otherwise. taste_k = log_odds + the covariate shifts + N(0, sd) per annotator.
Before that, a label is a tie with probability ``tie_rate`` and, otherwise, an
attention lapse (a coin flip) with probability ``lapse_rate``. After each label an
annotator abandons with probability ``abandon_rate``; each label takes a lognormal time.

No Django here: the planner runs it in a tight loop, the driver and the tests share it.
The TOML format and its checks are in ``simulation.population_file``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from interventions.measures import noticeably_more

# The attributes an annotator can perceive in a pair: each with the measure of
# ``interventions.measures`` read on both sides and the relative difference that counts.
# A factual error is left out: no measure of a text says which side is wrong.
ATTRIBUTES: dict[str, tuple[str, float]] = {
    "length": ("words", 0.15),
    "markdown": ("markdown", 0.5),
    "hedging": ("hedges", 0.5),
    "sycophancy": ("flattery", 0.5),
    "politeness": ("politeness", 0.5),
}
# Probabilists' Gauss-Hermite nodes: E[f(noise * z)] to ~1e-12 for smooth f.
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(32)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()


@dataclass(frozen=True)
class Covariate:
    name: str
    kind: str  # "choice" or "number"
    levels: tuple[str, ...] = ()
    probs: tuple[float, ...] = ()
    mean: float = 0.0
    sd: float = 1.0
    low: float = -np.inf
    high: float = np.inf
    recorded: bool = True  # False: a latent trait the questionnaire never asks


@dataclass(frozen=True)
class Preference:
    attribute: str
    measure: str
    threshold: float
    log_odds: float
    sd: float
    # covariate -> {level: shift} (choice) or slope per unit above the mean (number)
    by: Mapping[str, Mapping[str, float] | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Behaviour:
    position_bias: float = 0.0  # log-odds towards the left response
    position_bias_sd: float = 0.0
    noise: float = 0.0  # sd of per-label normal noise on the log-odds
    lapse_rate: float = 0.0
    tie_rate: float = 0.0
    abandon_rate: float = 0.0  # per label
    seconds_median: float = 20.0
    seconds_sigma: float = 0.5  # of log seconds


@dataclass(frozen=True)
class Population:
    name: str
    description: str
    covariates: tuple[Covariate, ...]
    preferences: tuple[Preference, ...]
    behaviour: Behaviour
    seed: int | None
    source: str  # the TOML text, recorded with every simulation run

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(p.attribute for p in self.preferences)


@dataclass(frozen=True)
class Annotators:
    """Drawn annotators: covariates (choice covariates as level strings), tastes
    (n, attributes) on the log-odds scale and position biases (n,)."""

    covariates: dict[str, np.ndarray]
    taste: np.ndarray
    position_bias: np.ndarray

    def __len__(self) -> int:
        return len(self.position_bias)

    def answers(self, i: int, *, recorded_only: Population | None = None) -> dict[str, Any]:
        keep = None
        if recorded_only is not None:
            keep = {c.name for c in recorded_only.covariates if c.recorded}
        return {
            k: (v[i].item() if hasattr(v[i], "item") else v[i])
            for k, v in self.covariates.items()
            if keep is None or k in keep
        }


# --- drawing ------------------------------------------------------------------------


def annotators_draw(population: Population, n: int, rng: np.random.Generator) -> Annotators:
    """``n`` independent annotators: covariates, then tastes and position biases."""
    covariates: dict[str, np.ndarray] = {}
    for c in population.covariates:
        if c.kind == "choice":
            covariates[c.name] = np.asarray(c.levels)[rng.choice(len(c.levels), n, p=c.probs)]
        else:
            covariates[c.name] = np.clip(rng.normal(c.mean, c.sd, n), c.low, c.high)
    means = {c.name: c.mean for c in population.covariates}
    taste = np.empty((n, len(population.preferences)))
    for k, p in enumerate(population.preferences):
        t = p.log_odds + p.sd * rng.standard_normal(n)
        for name, shift in p.by.items():
            if isinstance(shift, Mapping):
                table = np.vectorize(lambda v, s=shift: s.get(v, 0.0), otypes=[float])
                t = t + table(covariates[name])
            else:
                t = t + shift * (covariates[name] - means[name])
        taste[:, k] = t
    b = population.behaviour
    bias = b.position_bias + b.position_bias_sd * rng.standard_normal(n)
    return Annotators(covariates=covariates, taste=taste, position_bias=bias)


def perceived_difference(
    population: Population, left: Mapping[str, float], right: Mapping[str, float]
) -> np.ndarray:
    """d_k for each attribute: +1 when the left side has noticeably more of it (relative
    difference beyond the threshold, relative to the smaller side, at least 1), -1 when
    the right side has, else 0."""
    d = np.zeros(len(population.preferences))
    for k, p in enumerate(population.preferences):
        d[k] = noticeably_more(float(left[p.measure]), float(right[p.measure]), p.threshold)
    return d


TIE, RIGHT, LEFT = 0, 1, 2  # choice codes of ``choices_draw``


def choices_draw(
    population: Population,
    annotators: Annotators,
    who: np.ndarray,
    difference: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """One choice per label (codes TIE, RIGHT, LEFT): label i by annotator ``who[i]`` on a
    pair whose left-minus-right perceived difference is ``difference[i]`` (labels x
    attributes). Vectorised: the planner draws millions at once."""
    b = population.behaviour
    n = len(who)
    v = np.einsum("ij,ij->i", annotators.taste[who], difference) + annotators.position_bias[who]
    if b.noise:
        v = v + b.noise * rng.standard_normal(n)
    left = rng.random(n) < expit(v)
    lapse = rng.random(n) < b.lapse_rate
    left = np.where(lapse, rng.random(n) < 0.5, left)
    choice = np.where(left, LEFT, RIGHT)
    return np.where(rng.random(n) < b.tie_rate, TIE, choice)


def labels_before_abandoning(
    population: Population, n: int, cap: int, rng: np.random.Generator
) -> np.ndarray:
    """How many labels each of ``n`` annotators gives (at most ``cap``): each label is
    followed by abandoning with probability ``abandon_rate``."""
    rate = population.behaviour.abandon_rate
    if rate <= 0:
        return np.full(n, cap)
    return np.minimum(rng.geometric(rate, n), cap)


def seconds_draw(population: Population, n: int, rng: np.random.Generator) -> np.ndarray:
    b = population.behaviour
    return b.seconds_median * np.exp(b.seconds_sigma * rng.standard_normal(n))


def _p_left(v: np.ndarray, noise: float) -> np.ndarray:
    """E_z expit(v + noise z), by Gauss-Hermite quadrature on the last axis."""
    if not noise:
        return expit(v)
    return expit(v[..., None] + noise * _GH_NODES) @ _GH_WEIGHTS


def planted_effect(
    population: Population,
    treated_minus_control: np.ndarray,
    *,
    seed: int,
    draws: int = 400_000,
) -> float:
    """The true attribute effect tau = P(prefer treated) - 1/2 at balanced position,
    averaged over the population and over pairs whose perceived treated-minus-control
    differences are the rows of ``treated_minus_control`` (one pair per row, equally
    weighted, as a design that samples stimuli uniformly does).

    Ties count 1/2 and lapses are coin flips, so tau = (1 - tie)(1 - lapse) times the
    average of (P(treated | treated left) + P(treated | treated right))/2 - 1/2. The
    annotator average is a Monte Carlo mean over ``draws`` annotators (error about
    0.3/sqrt(draws)), the per-label noise exact by quadrature.
    """
    d = np.atleast_2d(np.asarray(treated_minus_control, dtype=float))
    patterns, counts = np.unique(d, axis=0, return_counts=True)
    rng = np.random.default_rng(seed)
    total = 0.0
    for start in range(0, draws, 100_000):
        drawn = annotators_draw(population, min(100_000, draws - start), rng)
        u = drawn.taste @ patterns.T  # (annotators, patterns)
        bias = drawn.position_bias[:, None]
        noise = population.behaviour.noise
        both = (_p_left(u + bias, noise) + 1.0 - _p_left(-u + bias, noise)) / 2
        total += float((both.sum(0) * counts).sum())
    b = population.behaviour
    mean = total / (draws * counts.sum())
    return (1 - b.tie_rate) * (1 - b.lapse_rate) * (mean - 0.5)
