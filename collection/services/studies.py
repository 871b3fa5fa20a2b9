"""A study's life in the admin: launch only when it can run, clone to start the next."""

import secrets

from django.db import transaction

from collection.models import PracticePair, Study
from interventions.models import Stimulus


def study_launch_problems(*, study: Study) -> list[str]:
    """What stops the study from running, each saying what to fix (empty: it can launch)."""
    problems = []
    sets = list(study.stimulus_sets.all())
    if not sets:
        problems.append("choose at least one stimulus set")
    eligible = Stimulus.objects.filter(
        stimulus_set__in=sets, check_status=Stimulus.CheckStatus.PASSED, is_attention_check=False
    )
    required = []
    if study.require_approved:
        eligible = eligible.filter(review_status=Stimulus.ReviewStatus.APPROVED)
        required.append("approved")
    if study.require_validated:
        eligible = eligible.filter(validation_status=Stimulus.ValidationStatus.PASSED)
        required.append("validated by a pretest")
    available = eligible.count()
    if sets and available == 0:
        which = " and ".join([*required, "passed"])
        problems.append(
            f"no pair has {which} its checks yet: generate the sets (or review the pairs, "
            "or run their pretest)"
        )
    elif sets and available < study.labels_per_annotator:
        problems.append(
            f"each annotator labels {study.labels_per_annotator} pairs but only {available} "
            "can be served: add pairs or lower labels per annotator"
        )
    if study.kind == Study.Kind.PRETEST:
        problems.extend(_pretest_problems(study, sets))
    if not study.consent_text.strip():
        problems.append("write the consent text annotators agree to")
    if not (study.completion_code or study.completion_url_template):
        problems.append("set a completion code or a completion URL, so annotators can finish")
    return problems


def _pretest_problems(study: Study, sets: list) -> list[str]:
    problems = []
    if study.require_validated:
        problems.append("a pretest cannot require validated pairs: untick that setting")
    if study.attention_check_rate > 0:
        problems.append("a pretest serves no attention checks: set their rate to 0")
    if study.design_name == Study.Design.NEYMAN:
        problems.append("a pretest has no outcome to allocate by: choose another design")
    if any(s.design == s.Design.FACTORIAL for s in sets):
        problems.append(
            "a pretest asks about one intervention per pair: use stimulus sets with one "
            "pair per intervention, not factorial ones"
        )
    return problems


def study_launch(*, study: Study) -> list[str]:
    """Start accepting annotators if nothing stops it; returns the problems otherwise.
    Launching freezes the design (the admin shows it read-only from then on)."""
    problems = study_launch_problems(study=study)
    if not problems:
        Study.objects.filter(pk=study.pk).exclude(status=Study.Status.CLOSED).update(
            status=Study.Status.RUNNING
        )
    return problems


# Settings a clone copies: the design and what annotators see, not who ran it or when.
CLONED_FIELDS = (
    "title", "design_name", "design_params", "order_scheme", "order_block_size",
    "replication_factor", "labels_per_annotator", "label_target", "attention_check_rate",
    "assignment_ttl_seconds", "stopping_rule", "estimand", "ties", "strength",
    "min_annotators", "require_approved", "require_validated", "kind", "pretest_min_answers",
    "pretest_min_identified", "pretest_min_same_meaning", "consent_text", "instructions",
    "covariate_schema_id", "completion_code", "completion_url_template",
    "no_consent_code", "returned_code", "expected_duration", "payment", "contact",
    "invitation_only", "require_both_opened",
)  # fmt: skip
PRACTICE_FIELDS = ("position", "prompt", "left", "right", "expected", "feedback")


def study_clone(*, study: Study, owner_id: int) -> Study:
    """A draft copy of the study's design and texts with the same stimulus sets, a new
    slug and a new seed, owned by ``owner_id`` alone (collaborators are not copied)."""
    values = {name: getattr(study, name) for name in CLONED_FIELDS}
    values["title"] = f"{study.title} (copy)"[:200]
    with transaction.atomic():
        base = study.slug[:40]  # slugs are at most 50 characters
        slug, n = f"{base}-copy", 2
        while Study.objects.filter(slug=slug).exists():
            slug, n = f"{base}-copy-{n}", n + 1
        clone = Study.objects.create(
            slug=slug, status=Study.Status.DRAFT, seed=secrets.randbits(62), **values
        )
        clone.stimulus_sets.set(study.stimulus_sets.all())
        clone.owners.add(owner_id)
        PracticePair.objects.bulk_create(
            PracticePair(study=clone, **{name: getattr(p, name) for name in PRACTICE_FIELDS})
            for p in study.practice_pairs.all()
        )
    return clone
