"""Imported pairs read as an observational study of an attribute, through the real services:
the adjusted estimates are the observational estimators' on the study's own labels, come
near a planted effect that the naive difference overshoots, and sit beside the randomised
estimate on the results page."""

import json
import uuid

import numpy as np
import pytest
from django.urls import reverse

from analysis.adjusted import adjusted_rows
from analysis.services import study_refresh
from collection.services import assignment_next, label_submit
from interventions.models import Prompt, Stimulus, StimulusSet
from interventions.services import stimulus_pairs_import
from tests.factories import enrollment_make, researcher_make, stimulus_set_make, study_make

SENTENCE = "This part of the answer explains one more step of the method in plain words."
# P(the longer answer is chosen) by prompt category; without a length difference, 1/2.
P_LONGER = {"coding": 0.85, "chat": 0.60}
SHARE_LONGER = {"coding": 0.8, "chat": 0.2}  # coding prompts come with longer answers
# The average effect over the units (labels spread evenly over both categories).
TRUTH = sum(p - 0.5 for p in P_LONGER.values()) / 2


def _imported_set(rng) -> StimulusSet:
    rows = []
    for i in range(80):
        category = "coding" if i % 2 else "chat"
        base = f"Answer {i}: " + " ".join([SENTENCE] * 3)
        longer = rng.random() < SHARE_LONGER[category]
        treated = (
            base + " " + " ".join([SENTENCE] * 3) if longer else base.replace("plain", "simple", 1)
        )
        rows.append({"prompt_id": f"p{i}", "prompt": f"Question {i} ({category})?",
                     "control": base, "treated": treated, "intervention": "imported"})  # fmt: skip
    stimulus_pairs_import(
        lines=[json.dumps(r) for r in rows], format="pairs-jsonl", source="obs-test",
        stimulus_set_name="obs-test",
    )  # fmt: skip
    for i in range(80):
        Prompt.objects.filter(source="obs-test", external_id=f"p{i}").update(
            category="coding" if i % 2 else "chat"
        )
    return StimulusSet.objects.get(name="obs-test")


def _label(study, annotators: int, rng) -> None:
    for _ in range(annotators):
        enrollment = enrollment_make(study)
        while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            s: Stimulus = a.stimulus
            if s.provenance == Stimulus.Provenance.OBSERVATIONAL:
                longer = s.measures_treated["words"] > s.measures_control["words"]
                p = P_LONGER[s.prompt.category] if longer else 0.5
            else:
                p = 0.75
            treated_wins = rng.random() < p
            label_submit(
                enrollment_id=enrollment.pk, assignment_id=a.pk, submission_id=uuid.uuid4(),
                choice="left" if treated_wins == a.treated_on_left else "right", strength=2,
            )  # fmt: skip


def mixed_study_make(owner):
    """Generated length pairs and the imported set, labelled by 50 annotators, refreshed."""
    rng = np.random.default_rng(8)
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=10), owner=owner,
        replication_factor=40, labels_per_annotator=20,
    )  # fmt: skip
    study.stimulus_sets.add(_imported_set(rng))
    _label(study, 50, rng)
    study_refresh(study_id=study.pk)
    return study


@pytest.mark.django_db
def test_imported_pairs_are_adjusted_and_shown_beside_the_randomised_estimate(client):
    owner = researcher_make("obs-owner")
    study = mixed_study_make(owner)

    (row,) = adjusted_rows(study=study)
    assert row.measure == "words" and row.randomised is not None and not row.note
    assert row.units > 500 and 100 < row.treated < row.units - 100
    aipw, ipw = row.aipw.ate, row.ipw.ate
    print("truth", TRUTH, "naive", row.naive.point, "ipw", ipw.point, "aipw", aipw.point)
    # Coding prompts come with longer answers and favour them more: the naive difference
    # overshoots; adjusting for the prompt's category brings it back.
    assert row.naive.point - TRUTH > 0.04
    for adjusted in (ipw, aipw):
        assert abs(adjusted.point - TRUTH) < 3.5 * adjusted.se
        assert abs(adjusted.point - TRUTH) < abs(row.naive.point - TRUTH)
    assert row.aipw.overlap.n_treated == row.treated

    client.force_login(owner)
    page = client.get(reverse("analysis:results", args=[study.slug])).content.decode()
    assert 'id="adjusted"' in page and f"{100 * aipw.point:+.1f}" in page
    assert f"{row.intervention}: {100 * row.randomised.point:+.1f}" in page


@pytest.mark.django_db
def test_too_few_imported_labels_say_so_and_a_study_without_any_shows_nothing():
    study = study_make(stimulus_set=stimulus_set_make(prompts=4), labels_per_annotator=4)
    _label(study, 2, np.random.default_rng(1))
    assert adjusted_rows(study=study) == []
    mixed = study_make(stimulus_set=stimulus_set_make(prompts=4), labels_per_annotator=10)
    mixed.stimulus_sets.add(_imported_set(np.random.default_rng(2)))
    _label(mixed, 2, np.random.default_rng(3))
    study = mixed
    (row,) = adjusted_rows(study=study)
    assert row.aipw is None and "too few imported labels" in row.note
