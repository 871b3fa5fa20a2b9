"""Build labelled studies through the real services, and recompute from scratch."""

import uuid

import numpy as np

from analysis.estimators.effects import attribute_effect
from analysis.services import study_refresh
from annotators.models import CovariateSchema
from annotators.services import covariates_record
from collection.models import Label
from collection.outcomes import label_outcome
from collection.services import assignment_next, label_submit
from tests.collection.helpers import attention_checks_make
from tests.factories import enrollment_make, stimulus_set_make, study_make

QUESTIONS = [
    {"key": "expertise", "label": "Expertise", "type": "choice", "choices": ["novice", "expert"]}
]


def label_study(
    study,
    annotators: int,
    rng: np.random.Generator,
    p_treated=0.7,
    refresh=None,
    tie_rate: float = 0.0,
    strengths: tuple[int, ...] = (2,),
):
    """Annotators prefer the treated side with probability ``p_treated`` (a callable of the
    annotator's index for heterogeneous effects), call a tie with probability
    ``tie_rate`` and state a strength drawn from ``strengths``; ``refresh`` runs after
    every label."""
    for k in range(annotators):
        enrollment = enrollment_make(study)
        if study.covariate_schema_id:
            covariates_record(
                annotator=enrollment.annotator,
                schema=study.covariate_schema,
                answers={"expertise": "expert" if k % 2 else "novice"},
            )
        p = p_treated(k) if callable(p_treated) else p_treated
        while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            treated_wins = rng.random() < p
            choice = "left" if treated_wins == a.treated_on_left else "right"
            if tie_rate and rng.random() < tie_rate:
                choice = "tie"
            label_submit(
                enrollment_id=enrollment.pk,
                assignment_id=a.pk,
                submission_id=uuid.uuid4(),
                choice=choice,
                strength=int(rng.choice(strengths)),
            )
            if refresh is not None:
                refresh()


def from_scratch(study, intervention_name: str, annotator_ids=None):
    """The estimator on the raw current labels of one intervention (optionally a subset
    of annotators)."""
    labels = [
        lb
        for lb in Label.objects.filter(study=study, superseded_by__isnull=True).select_related(
            "assignment__stimulus"
        )
        if lb.assignment.stimulus.treatment.get(intervention_name) == 1
        and (annotator_ids is None or lb.assignment.annotator_id in annotator_ids)
    ]
    # The study's outcome definition, every label of weight 1 (analysis.selectors).
    ys = [y_of(study, lb) for lb in labels]
    kept = [lb for lb, y in zip(labels, ys, strict=True) if y is not None]
    return attribute_effect(
        outcome=np.array([y for y in ys if y is not None]),
        treated_on_left=np.array([lb.assignment.treated_on_left for lb in kept]),
        propensity=np.ones(len(kept)),
        annotator=np.array([lb.assignment.annotator_id for lb in kept]),
        vcov="CR2",
    )


def y_of(study, label) -> float | None:
    return label_outcome(
        choice=label.choice,
        strength=label.strength,
        treated_on_left=label.assignment.treated_on_left,
        ties=study.ties,
        strength_mode=study.strength,
    )


def study_with_every_figure(owner, *, annotators: int = 20, seed: int = 0, p_treated=0.7):
    """A study with a questionnaire, attention checks and a label target, labelled by
    ``annotators`` (20: enough for every figure, the sequence included), refreshed after every
    four so the convergence panels have a history."""
    stimulus_set = stimulus_set_make(prompts=30)
    attention_checks_make(stimulus_set, 3)
    study = study_make(
        stimulus_set=stimulus_set,
        replication_factor=4,
        labels_per_annotator=4,
        attention_check_rate=0.25,
        label_target=120,
        schema=CovariateSchema.objects.create(name=f"expertise-{seed}", questions=QUESTIONS),
    )
    study.owners.add(owner)
    rng = np.random.default_rng(seed)
    for batch in range(0, annotators, 4):
        label_study(study, annotators=min(4, annotators - batch), rng=rng, p_treated=p_treated)
        study_refresh(study_id=study.pk)
    return study
