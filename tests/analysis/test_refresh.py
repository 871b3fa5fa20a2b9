import numpy as np
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from analysis.models import AnnotatorSums, Estimate, RefreshRun, RefreshState
from analysis.selectors import estimates_latest, label_arrays
from analysis.services import (
    refresh_sweep,
    studies_rebuild,
    study_estimates_refresh,
    study_refresh,
    study_refresh_request,
    study_sums_rebuild,
)
from annotators.models import CovariateResponse, CovariateSchema
from collection.models import Label
from tests.analysis.helpers import QUESTIONS, from_scratch, label_study
from tests.factories import stimulus_set_make, study_make


def _latest(study, estimand="amce", subgroup="all"):
    return {
        e.intervention.name: e
        for e in estimates_latest(study=study, subgroups=True)
        if e.estimand == estimand and e.subgroup == subgroup
    }


@pytest.mark.django_db
def test_incremental_refresh_after_every_label_equals_a_full_recompute():
    stimulus_set = stimulus_set_make(prompts=12, directions=("longer", "shorter"))
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=6, min_annotators=2)
    label_study(
        study,
        annotators=5,
        rng=np.random.default_rng(0),
        refresh=lambda: study_refresh(study_id=study.pk),
    )
    newest = Label.objects.latest("pk").pk
    for name, estimate in _latest(study).items():
        fit = from_scratch(study, name)
        assert estimate.watermark == newest
        assert estimate.point == pytest.approx(fit.amce.point, rel=1e-10)
        assert estimate.se == pytest.approx(fit.amce.se, rel=1e-10)
        assert estimate.n_labels == fit.n and estimate.n_annotators == fit.n_clusters
    for name, estimate in _latest(study, "position_bias").items():
        assert estimate.point == pytest.approx(from_scratch(study, name).position_bias.point)
    # One run per label once the first refresh existed; each run folded exactly one label.
    runs = RefreshRun.objects.filter(study=study)
    assert runs.count() == Label.objects.filter(study=study).count()
    assert set(runs.values_list("labels_folded", flat=True)) == {1}
    # The periodic rebuild finds no drift and stores nothing new.
    rebuild = study_sums_rebuild(study_id=study.pk)
    assert rebuild.drift == pytest.approx(0, abs=1e-12) and rebuild.snapshots == 0


@pytest.mark.django_db
def test_history_is_kept_and_a_refresh_with_nothing_new_stores_nothing(study):
    label_study(study, annotators=3, rng=np.random.default_rng(1))
    first = study_estimates_refresh(study_id=study.pk)
    assert first and study_estimates_refresh(study_id=study.pk) == []
    label_study(study, annotators=2, rng=np.random.default_rng(2))
    second = study_estimates_refresh(study_id=study.pk)
    assert second[0].watermark > first[0].watermark
    assert Estimate.objects.filter(study=study, estimand="amce").count() == 2
    assert study_refresh_request(study_id=study.pk) == "covered"


@pytest.mark.django_db
def test_no_estimate_until_two_annotators_and_missing_study_is_ignored(study):
    label_study(study, annotators=1, rng=np.random.default_rng(1))
    assert study_estimates_refresh(study_id=study.pk) == []
    assert study_estimates_refresh(study_id=10**9) == []
    assert not Estimate.objects.exists()


def _labels(study):
    data = label_arrays(study=study)
    assert np.all(data.weight == 1.0)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("weighting", ["label", "annotator"])
def test_confidence_sequence_is_the_asymptotic_closed_form_on_the_rows_own_estimand(weighting):
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=30),
        replication_factor=4,
        labels_per_annotator=4,
        min_annotators=3,
        estimand=weighting,
        stopping_rule={"planned_annotators": 40, "alpha": 0.1},
    )
    label_study(study, annotators=22, rng=np.random.default_rng(3))
    study_refresh(study_id=study.pk)
    estimate = _latest(study)["length-longer"]
    data = _labels(study)
    ids = np.unique(data.annotator)
    if weighting == "annotator":
        means = np.array([data.outcome[data.annotator == a].mean() for a in ids])
        point, se = means.mean() - 0.5, means.std(ddof=1) / np.sqrt(len(ids))
    else:
        fit = sm.WLS(data.outcome, sm.add_constant(2.0 * data.treated_on_left - 1.0)).fit(
            cov_type="cluster", cov_kwds={"groups": data.annotator}
        )
        point, se = fit.params[0] - 0.5, fit.bse[0]
    # Waudby-Smith et al. (2024), eq. (2.6) and Theorem 2.2, written out independently.
    alpha, t = 0.1, len(ids)
    rho2 = (-2 * np.log(alpha) + np.log(1 - 2 * np.log(alpha))) / 40
    sigma = se * np.sqrt(t)
    radius = sigma * np.sqrt(
        2 * (t * rho2 + 1) / (t * t * rho2) * np.log(np.sqrt(t * rho2 + 1) / alpha)
    )
    assert estimate.weighting == weighting and estimate.point == pytest.approx(point, rel=1e-10)
    assert estimate.cs_low == pytest.approx(max(-0.5, point - radius), rel=1e-9)
    assert estimate.cs_high == pytest.approx(min(0.5, point + radius), rel=1e-9)
    # The always-valid p-value is the alpha at which the sequence's edge reaches zero.
    p = estimate.p_always_valid
    edge = sigma * np.sqrt(2 * (t * rho2 + 1) / (t * t * rho2) * np.log(np.sqrt(t * rho2 + 1) / p))
    assert p == 1.0 or edge == pytest.approx(abs(point), rel=1e-8)
    # rho is fixed at the first refresh: a later edit of the rule does not move it.
    study.stopping_rule = {"planned_annotators": 400, "alpha": 0.1}
    study.save()
    label_study(study, annotators=1, rng=np.random.default_rng(4))
    study_refresh(study_id=study.pk)
    assert RefreshState.objects.get(study=study).cs_rho == pytest.approx(np.sqrt(rho2))


@pytest.mark.django_db
def test_rows_below_the_minimum_annotators_show_no_p_value_and_say_why():
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6, min_annotators=5
    )
    label_study(study, annotators=4, rng=np.random.default_rng(6))
    study_refresh(study_id=study.pk)
    row = _latest(study)["length-longer"]
    assert row.n_annotators == 4 and row.point is not None
    assert (row.p_value, row.ci_low, row.cs_low, row.p_always_valid) == (None, None, None, None)
    assert "fewer than the study's minimum of 5" in row.note
    label_study(study, annotators=1, rng=np.random.default_rng(7))
    study_refresh(study_id=study.pk)
    row = _latest(study)["length-longer"]
    assert row.n_annotators == 5 and row.p_value is not None and row.note == ""


@pytest.mark.django_db
def test_two_identical_annotators_are_not_estimable_never_p_zero():
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=12), labels_per_annotator=6, min_annotators=2
    )
    # Both always prefer the treated side: no variation at all.
    label_study(study, annotators=2, rng=np.random.default_rng(8), p_treated=1.0)
    study_refresh(study_id=study.pk)
    row = _latest(study)["length-longer"]
    assert row.point == pytest.approx(0.5)
    assert row.p_value is None and row.se is None and row.note.startswith("not estimable")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ties", "strength"), [("half", "ignore"), ("exclude", "ignore"), ("exclude", "graded")]
)
def test_ties_and_strength_settings_define_the_live_outcome(ties, strength):
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=12),
        labels_per_annotator=6,
        min_annotators=2,
        ties=ties,
        strength=strength,
    )
    label_study(
        study, annotators=4, rng=np.random.default_rng(9), tie_rate=0.3, strengths=(1, 2, 3)
    )
    assert Label.objects.filter(study=study, choice="tie").exists()
    study_refresh(study_id=study.pk)
    row = _latest(study)["length-longer"]
    fit = from_scratch(study, "length-longer")
    assert row.point == pytest.approx(fit.amce.point, rel=1e-10) and row.n_labels == fit.n
    current = Label.objects.filter(study=study, superseded_by__isnull=True)
    ties_kept = ties == "half"
    assert fit.n == current.count() - (0 if ties_kept else current.filter(choice="tie").count())
    # Changing the setting later rebuilds the sums on the new scale.
    study.ties, study.strength = "half", "ignore"
    study.save()
    label_study(study, annotators=1, rng=np.random.default_rng(10))
    study_refresh(study_id=study.pk)
    row = _latest(study)["length-longer"]
    assert row.point == pytest.approx(from_scratch(study, "length-longer").amce.point, rel=1e-10)


@pytest.mark.django_db
def test_subgroup_snapshots_match_the_estimator_on_each_subgroup_with_adjusted_p():
    schema = CovariateSchema.objects.create(name="expertise", questions=QUESTIONS)
    study = study_make(
        schema=schema,
        labels_per_annotator=6,
        stimulus_set=stimulus_set_make(prompts=12),
        min_annotators=2,
    )
    # Experts prefer the treated side much more often than novices.
    label_study(
        study, annotators=8, rng=np.random.default_rng(4), p_treated=lambda k: 0.9 if k % 2 else 0.4
    )
    study_refresh(study_id=study.pk)
    rows = [e for e in estimates_latest(study=study, subgroups=True) if e.subgroup != "all"]
    assert {e.subgroup for e in rows} == {"expertise=novice", "expertise=expert"}
    answers = dict(CovariateResponse.objects.values_list("annotator_id", "answers"))
    for row in rows:
        value = row.subgroup.split("=")[1]
        members = {a for a, ans in answers.items() if ans["expertise"] == value}
        fit = from_scratch(study, row.intervention.name, annotator_ids=members)
        assert row.point == pytest.approx(fit.amce.point, rel=1e-10)
        assert row.se == pytest.approx(fit.amce.se, rel=1e-10)
    # One family per question: its two levels.
    p = [r.p_value for r in rows]
    assert [r.p_holm for r in rows] == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert [r.p_bh for r in rows] == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


@pytest.mark.django_db
def test_a_family_counts_every_level_of_its_question_even_without_data():
    questions = [{**QUESTIONS[0], "choices": ["novice", "expert", "unused-a", "unused-b"]}]
    schema = CovariateSchema.objects.create(name="expertise4", questions=questions)
    study = study_make(
        schema=schema,
        labels_per_annotator=6,
        stimulus_set=stimulus_set_make(prompts=12),
        min_annotators=2,
    )
    label_study(study, annotators=8, rng=np.random.default_rng(4))
    study_refresh(study_id=study.pk)
    rows = [e for e in estimates_latest(study=study, subgroups=True) if e.subgroup != "all"]
    assert len(rows) == 2
    p = [r.p_value for r in rows] + [1.0, 1.0]
    holm = multipletests(p, method="holm")[1][:2]
    assert [r.p_holm for r in rows] == pytest.approx(list(holm))


@pytest.mark.django_db
def test_rebuild_detects_and_repairs_drift(study):
    label_study(study, annotators=4, rng=np.random.default_rng(5))
    study_refresh(study_id=study.pk)
    before = _latest(study)["length-longer"]
    # Corrupt the stored state, as a lost update or a bug would.
    row = AnnotatorSums.objects.filter(study=study).first()
    AnnotatorSums.objects.filter(pk=row.pk).update(sum_wy=row.sum_wy + 3.0, n=row.n + 1)
    run = study_sums_rebuild(study_id=study.pk)
    assert run.drift >= 1 / row.n and run.snapshots == 2
    after = _latest(study)["length-longer"]
    assert after.pk != before.pk
    assert after.point == pytest.approx(from_scratch(study, "length-longer").amce.point, rel=1e-10)
    assert AnnotatorSums.objects.get(pk__isnull=False, annotator=row.annotator).n == row.n


@pytest.mark.django_db
def test_a_correction_replaces_the_label_it_supersedes(study):
    label_study(study, annotators=3, rng=np.random.default_rng(6))
    study_refresh(study_id=study.pk)
    old = Label.objects.filter(study=study).first()
    # A correction is a new row for the same assignment (labels are append-only).
    Label.objects.create(
        study=study,
        assignment=old.assignment,
        supersedes=old,
        choice="tie",
        strength=1,
        submission_id="00000000-0000-0000-0000-000000000001",
        outcome=0.5,
    )
    run = study_refresh(study_id=study.pk)
    assert run.labels_folded == 1
    fit = from_scratch(study, "length-longer")
    assert _latest(study)["length-longer"].point == pytest.approx(fit.amce.point, rel=1e-10)
    assert study_sums_rebuild(study_id=study.pk).drift == pytest.approx(0, abs=1e-12)


@pytest.mark.django_db
def test_sweep_enqueues_only_studies_with_uncovered_labels(study, settings):
    label_study(study, annotators=2, rng=np.random.default_rng(7))
    covered = study_make(stimulus_set=study.stimulus_sets.first(), slug="covered")
    label_study(covered, annotators=2, rng=np.random.default_rng(8))
    study_refresh(study_id=covered.pk)
    # Labels younger than the grace period are left to the refresh their commit enqueued.
    assert refresh_sweep(min_age_seconds=3600) == []
    assert refresh_sweep(min_age_seconds=0) == [study.pk]
    assert (
        RefreshState.objects.get(study=covered).watermark
        == Label.objects.filter(study=covered).latest("pk").pk
    )


@pytest.mark.django_db
def test_a_label_committed_late_below_the_watermark_is_still_folded(study):
    label_study(study, annotators=3, rng=np.random.default_rng(9))
    ids = list(Label.objects.filter(study=study).order_by("pk").values_list("pk", flat=True))
    late = Label.objects.get(pk=ids[len(ids) // 2])
    fields = {f.attname: getattr(late, f.attname) for f in Label._meta.concrete_fields}
    # On PostgreSQL a label's id is drawn before its transaction commits: while it is in
    # flight, a refresh sees the ids around it but not the label itself.
    late.delete()
    study_refresh(study_id=study.pk)
    state = RefreshState.objects.get(study=study)
    assert state.watermark == ids[-1] and [e[0] for e in state.pending_ids] == [fields["id"]]
    assert study_refresh_request(study_id=study.pk) == "covered"
    Label.objects.create(**fields)  # ...and now it commits
    assert study_refresh_request(study_id=study.pk) == "refreshed"
    state.refresh_from_db()
    assert state.pending_ids == [] and state.labels_total == len(ids)
    fit = from_scratch(study, "length-longer")
    assert _latest(study)["length-longer"].point == pytest.approx(fit.amce.point, rel=1e-10)
    assert _latest(study)["length-longer"].n_labels == len(ids)


@pytest.mark.django_db
def test_the_sweep_asks_for_a_refresh_when_a_pending_label_commits(study):
    label_study(study, annotators=3, rng=np.random.default_rng(12))
    late = Label.objects.filter(study=study).order_by("pk")[3]
    fields = {f.attname: getattr(late, f.attname) for f in Label._meta.concrete_fields}
    late.delete()
    study_refresh(study_id=study.pk)
    assert refresh_sweep(min_age_seconds=0) == []  # nothing uncovered yet
    Label.objects.create(**fields)  # the late label commits below the watermark
    assert refresh_sweep(min_age_seconds=3600) == [study.pk]


@pytest.mark.django_db
def test_the_periodic_rebuild_covers_every_study_with_labels(study):
    other = study_make(stimulus_set=study.stimulus_sets.first(), slug="other")
    study_make(stimulus_set=study.stimulus_sets.first(), slug="empty")
    label_study(study, annotators=2, rng=np.random.default_rng(10))
    label_study(other, annotators=2, rng=np.random.default_rng(11))
    runs = studies_rebuild()
    assert sorted(r.study_id for r in runs) == sorted([study.pk, other.pk])
    assert all(r.kind == "full" and r.snapshots == 2 for r in runs)
