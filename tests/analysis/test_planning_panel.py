"""The study's planning page: labels and annotators needed, the design effect in a
sentence, the ICC prefilled from the study's own labels; readers of the study only."""

import math

import numpy as np
import pytest
from django.urls import reverse
from statsmodels.stats.power import NormalIndPower

from analysis.planning import pilot_icc, plan_study
from tests.analysis.helpers import label_study
from tests.factories import researcher_make, stimulus_set_make, study_make


@pytest.fixture
def two_interventions(db):
    return stimulus_set_make(prompts=12, directions=("longer", "shorter"))


@pytest.mark.django_db
def test_the_plan_has_the_power_asked_for_each_intervention(two_interventions):
    study = study_make(stimulus_set=two_interventions, labels_per_annotator=20)
    plan = plan_study(
        study=study, effect=0.05, alpha=0.05, power=0.8, labels_per_annotator=20, icc=0.1
    )
    assert plan.interventions == 2 and plan.per_intervention == 10
    assert plan.design_effect == pytest.approx(1 + 9 * 0.1)
    # The labels per intervention, shrunk by the design effect, reach the power (and one
    # label fewer does not), by statsmodels' power of the z-test on d = effect / 0.5.
    solver = NormalIndPower()
    for n, reaches in (
        (plan.labels_per_intervention, True),
        (plan.labels_per_intervention - 1, False),
    ):
        achieved = solver.power(0.1, n / plan.design_effect, 0.05, ratio=0)
        assert bool(achieved >= 0.8) is reaches
    assert plan.labels_total == 2 * plan.labels_per_intervention
    assert plan.annotators_total == math.ceil(plan.labels_total / 20)
    assert "about 10.0 labels" in plan.sentence and "= 1.90" in plan.sentence


@pytest.mark.django_db
def test_the_pilot_icc_is_high_when_annotators_differ_and_low_when_they_do_not(stimulus_set):
    rng = np.random.default_rng(3)
    alike = study_make(stimulus_set=stimulus_set, labels_per_annotator=8, replication_factor=30)
    label_study(alike, annotators=12, rng=rng, p_treated=0.6)
    split = study_make(
        stimulus_set=stimulus_set, labels_per_annotator=8, replication_factor=30, slug="split"
    )
    label_study(split, annotators=12, rng=rng, p_treated=lambda k: 0.95 if k % 2 else 0.05)
    low, high = pilot_icc(study=alike), pilot_icc(study=split)
    assert low is not None and high is not None
    assert high.icc > 0.5 > 0.15 > low.icc
    assert high.annotators == 12 and high.labels == 96
    assert pilot_icc(study=study_make(stimulus_set=stimulus_set, slug="empty")) is None


@pytest.mark.django_db
def test_the_page_prefills_the_pilot_and_is_the_studys_readers_alone(client, stimulus_set):
    owner, stranger = researcher_make("planner"), researcher_make("outsider")
    study = study_make(stimulus_set=stimulus_set, owner=owner, labels_per_annotator=6)
    label_study(study, annotators=6, rng=np.random.default_rng(5))
    url = reverse("admin:collection_study_planning", args=[study.pk])
    client.force_login(owner)
    page = client.get(url).content.decode()
    icc = pilot_icc(study=study).icc
    assert f'value="{round(icc, 3)}"' in page and "36 labels by" in page
    assert 'id="labels-per"' in page and "design effect" in page
    asked = client.get(url, {"effect": 0.1, "alpha": 0.05, "power": 0.9,
                             "labels_per_annotator": 6, "icc": 0}).content.decode()  # fmt: skip
    expected = plan_study(
        study=study, effect=0.1, alpha=0.05, power=0.9, labels_per_annotator=6, icc=0
    )
    assert f'<td id="labels-total">{expected.labels_total}</td>' in asked
    wrong = client.get(url, {"effect": 2, "alpha": 0.05, "power": 0.9,
                             "labels_per_annotator": 6, "icc": 0}).content.decode()  # fmt: skip
    assert "less than or equal to 0.5" in wrong and 'id="plan"' not in wrong
    change = client.get(reverse("admin:collection_study_change", args=[study.pk]))
    assert url in change.content.decode()
    client.force_login(stranger)
    assert client.get(url).status_code == 404
