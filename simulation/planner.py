"""Study planning by simulation: many synthetic studies straight through the estimators.

For a population and a design (the interventions, how many annotators, how many labels
each), each simulated study draws its annotators, gives every label an intervention
uniformly at random and a side by a fair coin (complete randomisation, so every
propensity is equal), draws the choices from the population, folds the labels into the
same per-annotator sums the live refresh uses (``analysis.estimators.sums``) and
estimates each intervention's effect with the study's estimand (``row_effect``). Power
is the share of studies whose interval excludes 0, the width is the interval's mean
width, coverage the share whose interval holds the planted truth.

The annotator axis is nested: a study of 100 annotators is the first 100 of the study of
200, so the curve over annotators is smooth and costs one simulation per labels-per-
annotator value. No HTTP and no database: numpy and the estimators only.
"""

from dataclasses import dataclass

import numpy as np

from analysis.estimators.sums import ClusterSums, Weighting, row_effect
from simulation.population import (
    LEFT,
    TIE,
    Population,
    annotators_draw,
    choices_draw,
    labels_before_abandoning,
    planted_effect,
)

UP = ("longer", "add", "more")
DOWN = ("shorter", "remove", "less")
# Studies simulated together: bounds memory to about 100 MB at 20 labels per annotator.
_CHUNK_LABELS = 2_000_000


@dataclass(frozen=True)
class Arm:
    """One intervention as the population perceives it: the treated-minus-control
    difference in each of the population's attributes (+1, -1 or 0)."""

    name: str
    difference: tuple[float, ...]


def arm_parse(spec: str, population: Population) -> Arm:
    """``length-longer`` / ``markdown-remove`` (the catalogue's names) or ``length:+1``:
    a pure counterfactual pair that moves one attribute and nothing else."""
    if ":" in spec:
        attribute, _, sign = spec.partition(":")
        if sign not in ("+1", "1", "-1"):
            raise ValueError(f"intervention {spec!r}: the sign after ':' must be +1 or -1")
        direction = -1.0 if sign == "-1" else 1.0
    else:
        attribute, _, word = spec.rpartition("-")
        if word not in UP + DOWN or not attribute:
            raise ValueError(
                f"intervention {spec!r}: write attribute-direction (e.g. length-longer, "
                f"markdown-add, hedging-less) or attribute:+1"
            )
        direction = 1.0 if word in UP else -1.0
    attributes = population.attributes
    if attribute not in attributes:
        raise ValueError(
            f"intervention {spec!r}: the population has no taste for {attribute!r}; "
            f"it has {', '.join(attributes)}"
        )
    diff = tuple(direction if a == attribute else 0.0 for a in attributes)
    return Arm(name=spec, difference=diff)


@dataclass(frozen=True)
class CellResult:
    """One intervention at one study size, over ``studies`` simulated studies."""

    arm: str
    annotators: int
    labels_per_annotator: int
    truth: float
    power: float
    ci_width: float
    coverage: float
    mean_estimate: float
    mean_labels: float  # labels of this intervention per study
    hours: float  # labelling time of the whole study, mean over studies
    studies: int


@dataclass(frozen=True)
class Plan:
    cells: tuple[CellResult, ...]
    target_power: float
    alpha: float
    weighting: Weighting
    seed: int

    def recommend(self) -> CellResult | None:
        """The study size with the fewest total labels (annotators x labels each) at which
        every intervention reaches the target power; None if no size in the grid does."""
        sizes: dict[tuple[int, int], list[CellResult]] = {}
        for c in self.cells:
            sizes.setdefault((c.annotators, c.labels_per_annotator), []).append(c)
        ok = [
            (g * m, g, m) for (g, m), cs in sizes.items()
            if all(c.power >= self.target_power for c in cs)
        ]  # fmt: skip
        if not ok:
            return None
        _, g, m = min(ok)
        return min(sizes[(g, m)], key=lambda c: c.power)


def _side_sums(rows: np.ndarray, side: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    """Per cell: n, sum s, sum y, sum s y (unit weights: propensities are equal)."""
    return np.stack(
        [
            np.bincount(rows, minlength=size).astype(float),
            np.bincount(rows, weights=side, minlength=size),
            np.bincount(rows, weights=y, minlength=size),
            np.bincount(rows, weights=side * y, minlength=size),
        ],
        -1,
    )


def _cluster_sums(s: np.ndarray) -> ClusterSums:
    """ClusterSums from (G, 4) rows of n, sum s, sum y, sum s y (annotators with labels)."""
    s = s[s[:, 0] > 0]
    xtwx = np.stack([np.stack([s[:, 0], s[:, 1]], -1), np.stack([s[:, 1], s[:, 0]], -1)], -2)
    return ClusterSums(xtwx=xtwx, xtwy=s[:, 2:4].copy(), n=s[:, 0].copy())


def studies_simulate(
    population: Population,
    arms: list[Arm],
    *,
    annotators: int,
    labels_per_annotator: int,
    studies: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Per-annotator sums (studies, arms, annotators, 4): n, sum s, sum y, sum s y."""
    n_arms, g, m = len(arms), annotators, labels_per_annotator
    diffs = np.array([a.difference for a in arms], dtype=float)
    out = np.zeros((studies, n_arms, g, 4))
    chunk = max(1, _CHUNK_LABELS // (g * m))
    for start in range(0, studies, chunk):
        r = min(chunk, studies - start)
        drawn = annotators_draw(population, r * g, rng)
        given = labels_before_abandoning(population, r * g, m, rng)
        who = np.repeat(np.arange(r * g), m)
        who = who[np.tile(np.arange(m), r * g) < given[who]]
        arm = rng.integers(0, n_arms, who.size)
        treated_left = rng.random(who.size) < 0.5
        side = np.where(treated_left, 1.0, -1.0)
        choice = choices_draw(population, drawn, who, diffs[arm] * side[:, None], rng)
        y = np.where(choice == TIE, 0.5, ((choice == LEFT) == treated_left).astype(float))
        study = who // g
        rows = (study * n_arms + arm) * g + who % g
        out[start : start + r] = _side_sums(rows, side, y, r * n_arms * g).reshape(r, n_arms, g, 4)
    return out


def plan(
    population: Population,
    arms: list[Arm],
    *,
    annotators: list[int],
    labels_per_annotator: list[int],
    studies: int = 1000,
    alpha: float = 0.05,
    target_power: float = 0.8,
    weighting: Weighting = "label",
    seed: int = 0,
) -> Plan:
    """Power, interval width and coverage for every (annotators, labels each) in the grid.

    Estimand and inference are the live results page's: ``weighting='label'`` is the
    regression intercept with CR2 and Bell-McCaffrey degrees of freedom,
    ``'annotator'`` the mean of annotators' means with t on G - 1. Truth: the planted
    effect of each arm (``planted_effect``). Each labels-per-annotator value draws its own
    studies from a child of ``seed``; annotator counts within it are nested prefixes.
    Assumes complete randomisation with an unlimited pool of equivalent pairs per
    intervention (no replication limit k): what the population model can say.
    """
    if not arms:
        raise ValueError("give at least one intervention")
    if min(annotators) < 2 or min(labels_per_annotator) < 1 or studies < 1:
        raise ValueError("annotators must be at least 2, labels per annotator at least 1")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    root = np.random.SeedSequence(seed)
    truth = [planted_effect(population, np.array([a.difference]), seed=seed + 1) for a in arms]
    b = population.behaviour
    seconds = b.seconds_median * np.exp(b.seconds_sigma**2 / 2)  # lognormal mean
    cells: list[CellResult] = []
    g_max = max(annotators)
    for m, child in zip(labels_per_annotator, root.spawn(len(labels_per_annotator)), strict=True):
        rng = np.random.default_rng(child)
        sums = studies_simulate(
            population, arms, annotators=g_max, labels_per_annotator=m, studies=studies, rng=rng
        )
        for g in sorted(annotators):
            part = sums[:, :, :g]
            for k, arm in enumerate(arms):
                effects = [
                    row_effect(_cluster_sums(part[r, k]), weighting=weighting, level=1 - alpha)
                    for r in range(studies)
                ]
                cells.append(_summarise(arm, g, m, truth[k], effects, part, k, alpha, seconds))
    return Plan(tuple(cells), target_power, alpha, weighting, seed)


def _summarise(
    arm: Arm,
    g: int,
    m: int,
    truth: float,
    effects: list,
    sums: np.ndarray,
    k: int,
    alpha: float,
    seconds: float,
) -> CellResult:
    point = np.array([e.effect.point for e in effects])
    low = np.array([e.effect.ci_low for e in effects])
    high = np.array([e.effect.ci_high for e in effects])
    p = np.array([e.effect.p_value for e in effects])
    labels = sums[..., 0].sum(-1)  # (studies, arms)
    # A study whose effect is not estimable (NaN) rejects nothing and covers nothing.
    return CellResult(
        arm=arm.name,
        annotators=g,
        labels_per_annotator=m,
        truth=float(truth),
        power=float(np.mean(np.nan_to_num(p, nan=1.0) < alpha)),
        ci_width=float(np.nanmean(high - low)),
        coverage=float(np.mean((low <= truth) & (truth <= high))),
        mean_estimate=float(np.nanmean(point)),
        mean_labels=float(labels[:, k].mean()),
        hours=float(labels.sum(1).mean()) * seconds / 3600,
        studies=len(effects),
    )
