import uuid

import numpy as np
import pytest

from analysis.estimators.effects import attribute_effect
from analysis.models import Estimate
from analysis.selectors import estimates_latest
from analysis.services import study_estimates_refresh
from collection.models import Label
from collection.services import assignment_next, label_submit
from tests.factories import enrollment_make, stimulus_set_make, study_make


def label_study(study, annotators: int, rng: np.random.Generator) -> None:
    """Annotators who prefer the treated side 70% of the time."""
    for _ in range(annotators):
        enrollment = enrollment_make(study)
        while (a := assignment_next(enrollment=enrollment)) is not None:
            treated_wins = rng.random() < 0.7
            choice = "left" if treated_wins == a.treated_on_left else "right"
            label_submit(
                annotator=enrollment.annotator,
                assignment_id=a.pk,
                submission_id=uuid.uuid4(),
                choice=choice,
                strength=2,
            )


@pytest.mark.django_db
def test_refresh_stores_what_the_estimator_computes_on_the_labels():
    stimulus_set = stimulus_set_make(prompts=12, directions=("longer", "shorter"))
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=8)
    label_study(study, annotators=6, rng=np.random.default_rng(0))
    stored = study_estimates_refresh(study_id=study.pk)
    assert {(e.intervention.name, e.estimand) for e in stored} == {
        (name, estimand)
        for name in ("length-longer", "length-shorter")
        for estimand in ("amce", "position_bias")
    }
    for estimate in stored:
        labels = Label.objects.filter(
            study=study, assignment__stimulus__cell=estimate.intervention.name
        ).select_related("assignment")
        fit = attribute_effect(
            outcome=np.array([lb.outcome for lb in labels]),
            treated_on_left=np.array([lb.assignment.treated_on_left for lb in labels]),
            propensity=np.array([lb.assignment.propensity for lb in labels]),
            annotator=np.array([lb.assignment.annotator_id for lb in labels]),
        )
        effect = fit.amce if estimate.estimand == "amce" else fit.position_bias
        assert estimate.point == pytest.approx(effect.point, rel=1e-12)
        assert estimate.se == pytest.approx(effect.se, rel=1e-12)
        assert estimate.n_labels == len(labels) and estimate.n_annotators == fit.n_clusters
        assert estimate.watermark == Label.objects.latest("pk").pk
    # Nothing new to cover: no new snapshot.
    assert study_estimates_refresh(study_id=study.pk) == []
    assert len(estimates_latest(study=study)) == 4


@pytest.mark.django_db
def test_no_estimate_until_two_annotators_and_missing_study_is_ignored(study):
    label_study(study, annotators=1, rng=np.random.default_rng(1))
    assert study_estimates_refresh(study_id=study.pk) == []
    assert study_estimates_refresh(study_id=10**9) == []
    assert not Estimate.objects.exists()
