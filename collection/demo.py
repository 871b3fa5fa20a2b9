"""Seed the demo study from the small demo set shipped in collection/demo/."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from annotators.models import CovariateSchema
from collection.models import Study
from interventions.models import Intervention, Prompt, StimulusSet
from interventions.services import (
    interventions_install_builtin,
    prompts_import,
    stimulus_set_generation_enqueue,
)

DEMO_FILE = Path(__file__).parent / "demo" / "prompts.jsonl"
DEMO_SOURCE = "counterpoint-demo"
DEMO_SLUG = "demo"
RESEARCHER = "researcher"

# A few of the built-in interventions (interventions/catalogue.py), one per attribute.
# length-shorter makes no pair from the demo's answers: it may drop only redundancy, and
# they have too little to reach its threshold (README, "Length without content").
DEMO_INTERVENTIONS = (
    "length-longer",
    "politeness-more",
    "markdown-add",
    "hedging-more",
    "sycophancy-more",
    "factual-error",
)
DEMO_QUESTIONS = [
    {
        "key": "age",
        "label": "Your age group",
        "type": "choice",
        "choices": ["18-29", "30-44", "45-59", "60+"],
    },
    {
        "key": "expertise",
        "label": "How much do you know about computing and science?",
        "type": "choice",
        "choices": ["little", "some", "expert"],
    },
    {
        "key": "english",
        "label": "Is English your first language?",
        "type": "choice",
        "choices": ["yes", "no"],
    },
]


def demo_researcher_password() -> str:
    path = Path(settings.VAR_DIR) / "demo_researcher_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def demo_seed() -> Study:
    """Create (once) the demo researcher, prompts, interventions, stimulus set and study,
    and queue stimulus generation on the worker. Safe to run again."""
    with transaction.atomic():
        user_model = get_user_model()
        researcher, created = user_model.objects.get_or_create(
            username=RESEARCHER, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            researcher.set_password(demo_researcher_password())
            researcher.save()
        if not Prompt.objects.filter(source=DEMO_SOURCE).exists():
            with DEMO_FILE.open("rb") as lines:
                prompts_import(lines=lines, source=DEMO_SOURCE)
        interventions_install_builtin()
        interventions = list(Intervention.objects.filter(name__in=DEMO_INTERVENTIONS))
        stimulus_set, created = StimulusSet.objects.get_or_create(
            name="Demo: six attributes",
            defaults={
                "response_source": DEMO_SOURCE,
                "seed": 20261126,
                "owner": researcher,
                "description": "Every demo answer with one attribute changed at a time.",
            },
        )
        if created:
            stimulus_set.interventions.set(interventions)
        schema, _ = CovariateSchema.objects.get_or_create(
            name="Demo questionnaire", defaults={"questions": DEMO_QUESTIONS}
        )
        study, created = Study.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "title": "Which answer is better? (demo)",
                "status": Study.Status.RUNNING,
                "replication_factor": 3,
                "labels_per_annotator": 8,
                "consent_text": (
                    "This is a demonstration study of Counterpoint. You will read questions "
                    "and pairs of answers and say which answer you prefer.\n\nWe record your "
                    "choices and your questionnaire answers under a random pseudonym. You may "
                    "stop at any time."
                ),
                "instructions": (
                    "Read the question and both responses. Pick the response you would "
                    "rather receive, and say how much better it is."
                ),
                "covariate_schema": schema,
                "completion_code": "CPDEMO01",
                "no_consent_code": "CPDEMONC",
                "returned_code": "CPDEMORT",
                "expected_duration": "about 5 minutes",
                "payment": "none: this is a demonstration",
                "contact": "the researcher who sent you this link",
                "seed": 7,
            },
        )
        if created:
            study.stimulus_sets.add(stimulus_set)
            study.owners.add(researcher)
        if stimulus_set.generation_status == StimulusSet.GenerationStatus.NOT_STARTED:
            stimulus_set_generation_enqueue(stimulus_set=stimulus_set)
    return study
