"""Coverage by simulation, over 500 studies per case, of what the results page shows:
the fixed-n interval of each estimand and the confidence sequence under continuous
monitoring (a look after every annotator), with equal and very unequal labels per
annotator. The figures are printed (pytest -s) and quoted in the README."""

import numpy as np
import pytest

from analysis.estimators.confseq import (
    ASYMPTOTIC_MIN_T,
    asymptotic_cs,
    asymptotic_multiplier,
    asymptotic_rho,
)
from analysis.estimators.sums import ClusterSums, row_effect

STUDIES = 500
ALPHA = 0.05
DELTA = 0.05  # position bias: the left response wins this much more often


def _population(rng, g: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels per annotator and each annotator's effect tau_g, in arrival order."""
    if kind == "equal":
        return np.full(g, 20), 0.1 + rng.uniform(-0.1, 0.1, g)
    heavy = rng.random(g) < 0.3  # 30% label 60 pairs and are indifferent
    return np.where(heavy, 60, 4), np.where(heavy, 0.0, 0.2) + rng.uniform(-0.05, 0.05, g)


def _truth(kind: str, weighting: str) -> float:
    if kind == "equal":
        return 0.1
    return 0.7 * 0.2 if weighting == "annotator" else (0.7 * 4 * 0.2) / (0.7 * 4 + 0.3 * 60)


def _studies(rng, reps: int, g: int, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-annotator sufficient statistics (weights 1) of ``reps`` studies: X'X (reps, g,
    2, 2), X'y (reps, g, 2) and n (reps, g), drawn label by label in distribution."""
    n, tau = zip(*(_population(rng, g, kind) for _ in range(reps)), strict=True)
    n, tau = np.array(n), np.array(tau)
    left = rng.binomial(n, 0.5)
    right = n - left
    wins_left = rng.binomial(left, 0.5 + tau + DELTA)
    wins_right = rng.binomial(right, 0.5 + tau - DELTA)
    s = left - right
    xtx = np.stack([np.stack([n, s], -1), np.stack([s, n], -1)], -2).astype(float)
    xty = np.stack([wins_left + wins_right, wins_left - wins_right], -1).astype(float)
    return xtx, xty, n.astype(float)


def _sums(xtx, xty, n, k: int, upto: int) -> ClusterSums:
    return ClusterSums(xtx[k, :upto], xty[k, :upto], n[k, :upto])


@pytest.mark.parametrize("annotators", [200, 20])
def test_fixed_n_intervals_cover_at_the_nominal_rate(annotators):
    rng = np.random.default_rng(100 + annotators)
    studies = 2 * STUDIES  # a coverage rate to +-0.7 points (one standard error)
    xtx, xty, n = _studies(rng, studies, annotators, "equal")
    for weighting in ("label", "annotator"):
        covered = 0
        for k in range(studies):
            effect = row_effect(_sums(xtx, xty, n, k, annotators), weighting=weighting).effect
            covered += effect.ci_low <= _truth("equal", weighting) <= effect.ci_high
        rate = covered / studies
        print(
            f"\n95% CI coverage over {studies} studies, {annotators} annotators x 20 labels, "
            f"{weighting}-weighted: {rate:.3f}"
        )
        assert 0.93 <= rate <= 0.97


def _running(xtx, xty, n, weighting: str, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Point and monitoring standard error after each annotator t = start..G of every
    study at once (cumulative sums; checked against the production code below)."""
    t = np.arange(1, n.shape[1] + 1, dtype=float)
    if weighting == "annotator":
        m = xty[..., 0] / xtx[..., 0, 0]
        mean = np.cumsum(m, 1) / t
        var = (np.cumsum(m * m, 1) - t * mean**2) / np.maximum(t - 1, 1)
        return (mean - 0.5)[:, start - 1 :], np.sqrt(var / t)[:, start - 1 :]
    looks = slice(start - 1, None)
    a = np.cumsum(xtx, 1)[:, looks]
    c = np.cumsum(xty, 1)[:, looks]
    bread = np.linalg.inv(a)
    b = np.einsum("rtij,rtj->rti", bread, c)
    # sum_g s_g s_g' with s_g = c_g - A_g b, expanded into cumulative sums.
    cc = np.cumsum(np.einsum("rgi,rgj->rgij", xty, xty), 1)[:, looks]
    ca = np.cumsum(np.einsum("rgi,rgjk->rgijk", xty, xtx), 1)[:, looks]
    aa = np.cumsum(np.einsum("rgik,rgjl->rgikjl", xtx, xtx), 1)[:, looks]
    cab = np.einsum("rtijk,rtk->rtij", ca, b)
    meat = cc - cab - np.swapaxes(cab, -1, -2) + np.einsum("rtikjl,rtk,rtl->rtij", aa, b, b)
    g, total = t[looks], np.cumsum(n, 1)[:, looks]
    factor = g / (g - 1) * (total - 1) / (total - 2)
    cov = factor[..., None, None] * bread @ meat @ bread
    return b[..., 0] - 0.5, np.sqrt(cov[..., 0, 0])


@pytest.mark.parametrize("kind", ["equal", "unequal"])
@pytest.mark.parametrize("weighting", ["label", "annotator"])
def test_the_sequence_keeps_coverage_under_continuous_monitoring(kind, weighting):
    rng = np.random.default_rng(7 if kind == "equal" else 8)
    horizon, start = 200, ASYMPTOTIC_MIN_T  # looks from the first the sequence is shown
    xtx, xty, n = _studies(rng, STUDIES, horizon, kind)
    rho = asymptotic_rho(t_planned=horizon, alpha=ALPHA)
    point, se = _running(xtx, xty, n, weighting, start)
    t = np.arange(start, horizon + 1)
    radius = se * asymptotic_multiplier(t=t, alpha=ALPHA, rho=rho)
    truth = _truth(kind, weighting)
    missed = (np.abs(point - truth) > radius).any(axis=1).mean()
    # The vectorised sequence is the production one: spot-check studies and looks.
    for k, look in [(0, start), (1, 57), (STUDIES - 1, horizon)]:
        row = row_effect(_sums(xtx, xty, n, k, look), weighting=weighting)
        cs = asymptotic_cs(
            point=row.effect.point, se=row.monitoring_se, t=look, alpha=ALPHA, rho=rho
        )
        assert cs is not None
        assert point[k, look - start] == pytest.approx(row.effect.point, rel=1e-9)
        assert radius[k, look - start] == pytest.approx(cs.radius, rel=1e-9)
    # Width at the planned size against the fixed-n interval of the same row.
    widths = []
    for k in range(50):
        row = row_effect(_sums(xtx, xty, n, k, horizon), weighting=weighting)
        cs = asymptotic_cs(
            point=row.effect.point, se=row.monitoring_se, t=horizon, alpha=ALPHA, rho=rho
        )
        widths.append(cs.radius / (row.effect.ci_high - row.effect.point))
    ratio = float(np.mean(widths))
    print(
        f"\nmonitoring {kind} labels, {weighting}-weighted: ever outside the sequence "
        f"{missed:.3f} over {STUDIES} studies x {horizon - start + 1} looks; width at the "
        f"planned {horizon} annotators {ratio:.2f}x the 95% CI"
    )
    assert missed <= 0.05
    assert ratio <= 2.0
