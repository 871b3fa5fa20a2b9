"""The demonstration: the three failure modes of collecting preferences the usual way, each
beside what randomised, counterfactual collection gives, on data whose truth we planted.

1. Confounding: annotators choose their prompts, so the prompts' kind and the annotators'
   expertise travel with the treatment; the naive difference misses the population
   effect, the randomised arm covers it, and the observational arm adjusted for the
   recorded covariates (IPW, AIPW) comes back, with its overlap diagnostics.
2. Tangled factors: reward models (the project's Bradley-Terry text model) trained on
   pairs where length and completeness go together (correlation rho) and on counterfactual
   pairs where they are crossed, then tested where the correlation is reversed, and
   audited for their preference for length alone (people have none).
3. Hidden heterogeneity: two kinds of annotator with opposite taste for length; the pooled
   effect hides them, the subgroup effects recover both, and latent classes find them when
   the trait was never recorded.

Everything is numpy through the product's own estimators; every draw takes a seed.
"""

from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import norm

from analysis.estimators.effects import Effect, attribute_effect, normal_effect
from analysis.estimators.latent_classes import latent_classes_select
from analysis.estimators.observational import ObservationalEffect, aipw_effect, ipw_effect
from analysis.estimators.wls import wls_cluster
from audit.preference import model_preference
from audit.text_model import TextRewardModel, text_model_train
from simulation.population import (
    LEFT,
    TIE,
    Population,
    annotators_draw,
    choices_draw,
    planted_effect,
)
from simulation.population_file import BUILTIN, population_load


@dataclass(frozen=True)
class Size:
    """How big each part is: ``full`` for the README, ``quick`` for CI."""

    annotators: int  # parts 1 and 3
    labels: int  # per annotator
    pairs: int  # part 2: training pairs per model
    rhos: tuple[float, ...]
    classes_starts: int


FULL = Size(annotators=400, labels=20, pairs=3000, rhos=(0.0, 0.3, 0.6, 0.9), classes_starts=8)
QUICK = Size(annotators=200, labels=20, pairs=1500, rhos=(0.0, 0.9), classes_starts=3)


def _difference(y: np.ndarray, t: np.ndarray, groups: np.ndarray) -> Effect:
    """Difference in means of y between t = 1 and t = 0, CR1 by annotator."""
    x = np.column_stack([np.ones(len(y)), t])
    fit = wls_cluster(x, y, np.ones(len(y)), groups)
    return normal_effect(float(fit.params[1]), float(fit.se[1]), 0.0, 0.95)


# --- 1. confounding ---------------------------------------------------------------------

# Each label is a pair whose answer A is either made longer (t = 1) or left as long as B
# (t = 0); y = 1 when A is chosen. P(y = 1) = 0.45 + 0.15 technical + tau(expertise) t:
# technical prompts favour A whatever its length; experts like the longer A more (+0.10)
# than novices (+0.05). The population effect is their average, +0.075, on any mix of
# prompts. Experts choose technical prompts, which in the wild more often come with a long
# answer: the long answers meet the annotators and prompts that favour them anyway.
TAU_NOVICE, TAU_EXPERT, TECHNICAL_SHIFT = 0.05, 0.10, 0.15
CONFOUNDING_TRUTH = (TAU_NOVICE + TAU_EXPERT) / 2


@dataclass(frozen=True)
class ConfoundingResult:
    truth: float
    randomised: Effect
    naive: Effect
    ipw: ObservationalEffect
    aipw: ObservationalEffect


def _arm(size: Size, rng: np.random.Generator, *, observational: bool):
    g, m = size.annotators, size.labels
    expert = np.repeat(rng.random(g) < 0.5, m).astype(float)
    who = np.repeat(np.arange(g), m)
    if observational:
        technical = (rng.random(g * m) < np.where(expert == 1, 0.8, 0.25)).astype(float)
        p_long = 1 / (1 + np.exp(-(-1.2 + 2.0 * technical + 0.6 * expert)))
        t = (rng.random(g * m) < p_long).astype(float)
    else:
        technical = (rng.random(g * m) < 0.5).astype(float)
        t = (rng.random(g * m) < 0.5).astype(float)
    tau = np.where(expert == 1, TAU_EXPERT, TAU_NOVICE)
    y = (rng.random(g * m) < 0.45 + TECHNICAL_SHIFT * technical + tau * t).astype(float)
    return y, t, np.column_stack([expert, technical]), who


def confounding(size: Size, seed: int) -> ConfoundingResult:
    rng = np.random.default_rng(seed)
    y, t, _, who = _arm(size, rng, observational=False)
    randomised = _difference(y, t, who)
    y, t, x, who = _arm(size, rng, observational=True)
    return ConfoundingResult(
        truth=CONFOUNDING_TRUTH,
        randomised=randomised,
        naive=_difference(y, t, who),
        ipw=ipw_effect(outcome=y, treatment=t, covariates=x, groups=who),
        aipw=aipw_effect(outcome=y, treatment=t, covariates=x, groups=who),
    )


# --- 2. tangled factors -----------------------------------------------------------------

_SYLLABLES: tuple[str, ...] = ("ka", "lo", "mi", "ter", "vun", "dra", "pel", "sor")
_SYLLABLES += ("tin", "bax", "rum", "fe", "qui", "zal", "nor")
# Key points and filler are made alike: fresh (pseudo) words around the same function
# words, so what people read as substance a text model cannot see, except that some key
# points carry a marker of substance ("for example"): a noisy trace of completeness, as
# real reward models get, beside length, which they read exactly.
_TEMPLATES = (
    "The {0} is {1} and {2} {3}.",
    "It is the {0} {1} that {2} the {3}.",
    "{0} the {1}, and it is {2} to {3}.",
    "This {0} can {1} a {2} {3}.",
)
_MARKERS = ("for example", "specifically", "in particular")
MARKER_RATE = 0.4  # share of key points with a marker
KEY_POINTS = 5  # per prompt, at most
PEOPLE_COMPLETENESS = 1.0  # log-odds per key point; people do not care for length itself


def _pseudo_word(rng: np.random.Generator) -> str:
    return "".join(rng.choice(_SYLLABLES, int(rng.integers(2, 4))))


def _sentence(rng: np.random.Generator, *, marker: bool) -> str:
    text = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))].format(
        *(_pseudo_word(rng) for _ in range(4))
    )
    if marker:
        lead = _MARKERS[int(rng.integers(len(_MARKERS)))].capitalize()
        text = f"{lead}, {text[0].lower()}{text[1:]}"
    return text


def _prompt_points(rng: np.random.Generator) -> list[str]:
    """The key points a complete answer to one prompt makes."""
    return [_sentence(rng, marker=rng.random() < MARKER_RATE) for _ in range(KEY_POINTS)]


def _response(points: list[str], complete: int, filler: int, rng: np.random.Generator) -> str:
    sentences = points[:complete] + [_sentence(rng, marker=False) for _ in range(filler)]
    return " ".join(sentences[i] for i in rng.permutation(len(sentences)))


def _levels(rho: float, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Completeness 1..5 key points and filler sentences making the answer 5..9 sentences
    long, the two latent normals correlated at rho (so are completeness and length)."""
    zc = rng.standard_normal(n)
    zl = rho * zc + np.sqrt(1 - rho**2) * rng.standard_normal(n)
    complete = 1 + np.minimum((norm.cdf(zc) * 5).astype(int), 4)
    length = 5 + np.minimum((norm.cdf(zl) * 5).astype(int), 4)
    return complete, np.maximum(length - complete, 0)


@dataclass(frozen=True)
class Pairs:
    first: list[str]
    second: list[str]
    complete_first: np.ndarray  # key points in each side
    complete_second: np.ndarray


def _correlated_pairs(rho: float, n: int, rng: np.random.Generator) -> Pairs:
    """Observational pairs: each side's completeness and length drawn together at rho."""
    ca, fa = _levels(rho, n, rng)
    cb, fb = _levels(rho, n, rng)
    first, second = [], []
    for i in range(n):
        points = _prompt_points(rng)
        first.append(_response(points, int(ca[i]), int(fa[i]), rng))
        second.append(_response(points, int(cb[i]), int(fb[i]), rng))
    return Pairs(first, second, ca, cb)


def _counterfactual_pairs(n: int, rng: np.random.Generator) -> Pairs:
    """Crossed pairs from one base answer: half differ only in length (filler added), half
    only in completeness at the same length (a key point takes a filler sentence's place)."""
    first, second, complete_first, complete_second = [], [], [], []
    for i in range(n):
        points = _prompt_points(rng)
        complete = int(rng.integers(1, 5))
        filler = int(rng.integers(5, 9)) - complete
        base = _response(points, complete, filler, rng)
        more = 0 if i % 2 else min(int(rng.integers(1, 3)), KEY_POINTS - complete)
        if more:
            treated = _response(points, complete + more, filler - more, rng)
        else:
            treated = _response(points, complete, filler + int(rng.integers(1, 3)), rng)
        first.append(treated)
        second.append(base)
        complete_first.append(complete + more)
        complete_second.append(complete)
    return Pairs(first, second, np.array(complete_first), np.array(complete_second))


def _people_label(pairs: Pairs, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """(chosen, rejected) as people choose: by completeness alone, with noise."""
    diff = pairs.complete_first - pairs.complete_second
    first_wins = rng.random(len(diff)) < 1 / (1 + np.exp(-PEOPLE_COMPLETENESS * diff))
    chosen = [a if w else b for a, b, w in zip(pairs.first, pairs.second, first_wins, strict=True)]
    rejected = [
        b if w else a for a, b, w in zip(pairs.first, pairs.second, first_wins, strict=True)
    ]
    return chosen, rejected


def _accuracy(model: TextRewardModel, pairs: Pairs) -> float:
    """Share of pairs with a more complete side that the model ranks that side higher."""
    decided = pairs.complete_first != pairs.complete_second
    a, b = model.score(pairs.first), model.score(pairs.second)
    right = np.where(pairs.complete_first > pairs.complete_second, a > b, b > a)
    return float(right[decided].mean())


def _length_pairs(n: int, rng: np.random.Generator) -> tuple[list[str], list[str], np.ndarray]:
    """The audit's length pairs: one answer, and the same with two filler sentences added
    (people, who weigh key points only, have no preference between them)."""
    treated, control = [], []
    for _ in range(n):
        points = _prompt_points(rng)
        complete = int(rng.integers(1, KEY_POINTS + 1))
        sentences = points[:complete] + [
            _sentence(rng, marker=False) for _ in range(int(rng.integers(0, 3)))
        ]
        control.append(" ".join(sentences))
        treated.append(" ".join(sentences + [_sentence(rng, marker=False) for _ in range(2)]))
    prompt = np.arange(n)
    return treated, control, prompt


@dataclass(frozen=True)
class TangledRow:
    training: str  # "rho = 0.9" or "counterfactual"
    rho: float | None
    in_distribution: float
    reversed: float
    length_preference: Effect


def tangled(size: Size, seed: int) -> list[TangledRow]:
    rng = np.random.default_rng(seed)
    treated, control, prompt = _length_pairs(400, rng)
    reversed_pairs = _correlated_pairs(-0.9, 1000, rng)
    rows = []
    designs: list[tuple[str, float | None]] = [(f"rho = {r:g}", r) for r in size.rhos]
    designs.append(("counterfactual (crossed)", None))
    for name, rho in designs:
        if rho is None:
            train = _counterfactual_pairs(size.pairs, rng)
            held = _correlated_pairs(0.0, 1000, rng)
        else:
            train = _correlated_pairs(rho, size.pairs, rng)
            held = _correlated_pairs(rho, 1000, rng)
        chosen, rejected = _people_label(train, rng)
        model = text_model_train(chosen, rejected, l2=1.0, seed=seed)
        audit = model_preference(
            treated=model.score(treated),
            control=model.score(control),
            prompt=prompt,
            scale="bradley-terry",
        )
        rows.append(
            TangledRow(name, rho, _accuracy(model, held), _accuracy(model, reversed_pairs), audit)
        )
    return rows


# --- 3. hidden heterogeneity ------------------------------------------------------------


@dataclass(frozen=True)
class SubgroupRow:
    group: str
    truth: float
    estimate: Effect


@dataclass(frozen=True)
class HeterogeneityResult:
    pooled: SubgroupRow
    subgroups: list[SubgroupRow]
    bic: list[float]
    classes: int
    class_length_taste: list[float]  # log-odds per class
    class_shares: list[float]
    classified_right: float


def _only(population: Population, covariate: str, level: str) -> Population:
    """The population with every annotator at one level of a choice covariate."""
    covariates = tuple(
        replace(c, probs=tuple(float(v == level) for v in c.levels)) if c.name == covariate else c
        for c in population.covariates
    )
    return replace(population, covariates=covariates)


def heterogeneity(size: Size, seed: int) -> HeterogeneityResult:
    population = population_load(BUILTIN / "hidden-classes.toml")
    rng = np.random.default_rng(seed)
    g, m = size.annotators, size.labels
    drawn = annotators_draw(population, g, rng)
    who = np.repeat(np.arange(g), m)
    arm = rng.integers(0, 2, who.size)  # length-longer or markdown-add pairs
    left = rng.random(who.size) < 0.5
    side = np.where(left, 1.0, -1.0)
    diff = np.zeros((who.size, len(population.attributes)))
    diff[np.arange(who.size), arm] = side
    choice = choices_draw(population, drawn, who, diff, rng)
    y = np.where(choice == TIE, 0.5, ((choice == LEFT) == left).astype(float))
    length = arm == 0
    pattern = np.zeros(len(population.attributes))
    pattern[0] = 1.0

    def effect(rows: np.ndarray) -> Effect:
        return attribute_effect(
            outcome=y[rows],
            treated_on_left=left[rows],
            propensity=np.ones(int(rows.sum())),
            annotator=who[rows],
        ).amce

    reader = drawn.covariates["reader"][who]
    pooled = SubgroupRow("everyone", planted_effect(population, pattern, seed=seed), effect(length))
    subgroups = [
        SubgroupRow(
            f"reader = {level}",
            planted_effect(_only(population, "reader", level), pattern, seed=seed),
            effect(length & (reader == level)),
        )
        for level in ("skimmer", "thorough")
    ]
    design = np.column_stack([arm == 0, arm == 1, side]).astype(float)
    selection = latent_classes_select(
        outcome=y,
        design=design,
        annotator=who,
        rng=rng,
        max_classes=3,
        starts=size.classes_starts,
    )
    best = selection.best
    # Classes are ordered by their length taste: class 0 dislikes length (skimmers).
    thorough = drawn.covariates["reader"] == "thorough"
    right = float((best.posterior.argmax(1) == thorough.astype(int)).mean()) if best.k == 2 else 0.0
    return HeterogeneityResult(
        pooled=pooled,
        subgroups=subgroups,
        bic=[float(f.bic) for f in selection.fits],
        classes=best.k,
        class_length_taste=[float(v) for v in best.coefficients[:, 0]],
        class_shares=[float(v) for v in best.weights],
        classified_right=right,
    )


# --- the tables ----------------------------------------------------------------------------

PARTS = (
    "1. Confounding: annotators choose their prompts",
    "2. Tangled factors: length and completeness",
    "3. Hidden heterogeneity: opposite tastes",
)


def part_table(part: int, size: Size, seed: int) -> str:
    """The table of one part (0, 1 or 2), computed afresh."""
    if part == 0:
        return confounding_table(confounding(size, seed))
    if part == 1:
        return tangled_table(tangled(size, seed))
    return heterogeneity_table(heterogeneity(size, seed))


def _pp(value: float) -> str:
    return f"{100 * value:+.1f}"


def _ci(e: Effect) -> str:
    return f"[{_pp(e.ci_low)}, {_pp(e.ci_high)}]"


def _covers(e: Effect, truth: float) -> str:
    return "yes" if e.ci_low <= truth <= e.ci_high else "**no**"


def confounding_table(r: ConfoundingResult) -> str:
    lines = [
        f"| arm and estimator | estimate (points) | 95% CI | covers the truth ({_pp(r.truth)}) |",
        "|---|---|---|---|",
    ]
    rows = [
        ("randomised: difference in means", r.randomised),
        ("observational: naive difference", r.naive),
        ("observational: IPW on expertise and prompt kind", r.ipw.ate),
        ("observational: AIPW (doubly robust)", r.aipw.ate),
    ]
    for name, e in rows:
        lines.append(f"| {name} | {_pp(e.point)} | {_ci(e)} | {_covers(e, r.truth)} |")
    o = r.aipw.overlap
    lines.append("")
    lines.append(
        f"Overlap: propensity {o.propensity_treated[0]:.2f}-{o.propensity_treated[1]:.2f} among "
        f"the treated, {o.propensity_control[0]:.2f}-{o.propensity_control[1]:.2f} among the "
        f"controls; effective sample sizes {o.ess_treated:.0f} of {o.n_treated} and "
        f"{o.ess_control:.0f} of {o.n_control}. E-value of the AIPW estimate "
        f"{r.aipw.e_value:.2f} (of its interval {r.aipw.e_value_ci:.2f})."
    )
    return "\n".join(lines)


def tangled_table(rows: list[TangledRow]) -> str:
    lines = [
        "| training pairs | accuracy, same distribution | accuracy, correlation reversed "
        "| audited length preference (points, 95% CI) |",
        "|---|---|---|---|",
    ]
    for r in rows:
        e = r.length_preference
        lines.append(
            f"| {r.training} | {r.in_distribution:.3f} | {r.reversed:.3f} "
            f"| {_pp(e.point)} {_ci(e)} |"
        )
    lines.append("")
    lines.append("People's length preference on the audit's pairs: 0 (they weigh key points only).")
    return "\n".join(lines)


def heterogeneity_table(r: HeterogeneityResult) -> str:
    lines = [
        "| length-longer effect | truth (points) | estimate | 95% CI |",
        "|---|---|---|---|",
    ]
    for row in [r.pooled, *r.subgroups]:
        e = row.estimate
        lines.append(f"| {row.group} | {_pp(row.truth)} | {_pp(e.point)} | {_ci(e)} |")
    lines.append("")
    bic = ", ".join(f"{b:.1f}" for b in r.bic)
    tastes = ", ".join(f"{v:+.2f}" for v in r.class_length_taste)
    shares = ", ".join(f"{v:.2f}" for v in r.class_shares)
    lines.append(
        f"Latent classes without the reader trait: BIC {bic} for 1-{len(r.bic)} classes, so "
        f"{r.classes}; length taste by class {tastes} log-odds (planted -1.2, +1.2), shares "
        f"{shares}; {100 * r.classified_right:.0f}% of annotators put in their planted class."
    )
    return "\n".join(lines)
