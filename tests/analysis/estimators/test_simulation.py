"""Simulations: planted subgroup effects are covered at the nominal rate, and the confidence
sequence survives continuous monitoring where repeated ordinary intervals do not."""

import numpy as np

from analysis.estimators.confseq import normal_mixture_radius, rho_for_planned
from analysis.estimators.heterogeneity import cochran_q, heterogeneity_wald, subgroup_effects
from analysis.estimators.sums import attribute_effect_from_sums, cluster_sums
from tests.analysis.estimators.simdata import label_arrays, simulate_labels

TAU_BY_GROUP = np.array([0.0, 0.08, 0.15])


def test_subgroup_intervals_cover_planted_effects_at_nominal_rate():
    rng = np.random.default_rng(2026)
    reps, covered, total, covered_overall = 250, 0, 0, 0
    for _ in range(reps):
        data = simulate_labels(
            rng,
            n_annotators=150,
            per=10,
            tau_by_group=TAU_BY_GROUP,
            delta=0.04,
            sd_annotator=0.08,
        )
        ids, sums = cluster_sums(**label_arrays(data))
        for s in subgroup_effects(sums=sums, labels=data["group"][ids]):
            covered += s.effect.amce.ci_low <= TAU_BY_GROUP[s.label] <= s.effect.amce.ci_high
            total += 1
        # The pooled effect's truth is the subgroup effects averaged over annotators'
        # labels; groups are drawn uniformly, so it is the realised label-weighted mix.
        truth = TAU_BY_GROUP[data["group"]].mean()
        overall = attribute_effect_from_sums(sums).amce
        covered_overall += overall.ci_low <= truth <= overall.ci_high
    print(
        f"subgroup coverage {covered / total:.3f} over {total} intervals; "
        f"overall {covered_overall / reps:.3f} over {reps}"
    )
    assert 0.93 <= covered / total <= 0.97
    assert 0.92 <= covered_overall / reps <= 0.98


def test_confidence_sequence_keeps_coverage_under_continuous_monitoring():
    rng = np.random.default_rng(7)
    reps, horizon, per, start = 400, 400, 10, 10
    truth = 0.55
    shift = rng.normal(0, 0.08, (reps, horizon))
    # Annotator-level means of `per` binary labels, one annotator arriving at a time.
    means = rng.binomial(per, np.clip(truth + shift, 0, 1)) / per
    t = np.arange(1, horizon + 1)
    running = np.cumsum(means, axis=1) / t
    radius = normal_mixture_radius(t=t, rho=rho_for_planned(n_planned=horizon))
    cs_ever_missed = (np.abs(running - truth) > radius).any(axis=1).mean()
    # Ordinary 95% intervals recomputed after every annotator, peeking each time.
    sq = np.cumsum(means**2, axis=1)
    sd = np.sqrt(np.maximum(sq / t - running**2, 0) * t / np.maximum(t - 1, 1))
    ordinary = np.abs(running - truth) > 1.96 * sd / np.sqrt(t)
    ordinary_ever_missed = ordinary[:, start - 1 :].any(axis=1).mean()
    # A single look at the end is fine for the ordinary interval: the problem is peeking.
    final_missed = ordinary[:, -1].mean()
    print(
        f"ever outside under monitoring: confidence sequence {cs_ever_missed:.3f}, "
        f"repeated ordinary intervals {ordinary_ever_missed:.3f} (single look {final_missed:.3f})"
    )
    assert cs_ever_missed <= 0.05
    assert ordinary_ever_missed > 0.15
    assert final_missed < 0.09


def test_heterogeneity_tests_hold_their_size_and_find_planted_heterogeneity():
    rng = np.random.default_rng(31)
    reps = 400
    rejected = {"wald_null": 0, "q_null": 0, "wald_planted": 0, "q_planted": 0}
    for _ in range(reps):
        for case, taus in (("null", np.full(3, 0.08)), ("planted", TAU_BY_GROUP)):
            data = simulate_labels(rng, n_annotators=300, per=6, tau_by_group=taus)
            ids, sums = cluster_sums(**label_arrays(data))
            wald = heterogeneity_wald(sums=sums, covariates=data["covariates"][ids])
            q = cochran_q(effects=subgroup_effects(sums=sums, labels=data["group"][ids]))
            rejected[f"wald_{case}"] += wald.p_value < 0.05
            rejected[f"q_{case}"] += q.p_value < 0.05
    rates = {k: v / reps for k, v in rejected.items()}
    print("rejection rates at 5%:", rates)
    # Cluster-robust tests run a little liberal in finite samples; 0.10 is 5% plus about
    # four binomial standard errors at 400 replications.
    assert 0.02 <= rates["wald_null"] <= 0.10 and 0.02 <= rates["q_null"] <= 0.10
    assert rates["wald_planted"] > 0.8 and rates["q_planted"] > 0.8
