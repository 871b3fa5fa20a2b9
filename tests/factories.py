"""Build real objects through the services, so tests exercise what production runs."""

import json
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model

from annotators.models import Annotator, CovariateSchema
from annotators.services import annotator_create_anonymous
from collection.models import Enrollment, Study
from collection.services import enrollment_consent, enrollment_start
from interventions.models import Intervention, StimulusSet
from interventions.services import prompts_import, stimulus_pairs_import, stimulus_set_generate

DEMO_FILE = Path(__file__).resolve().parent.parent / "collection" / "demo" / "prompts.jsonl"
# Answers with a restatement in each, so both length directions make pairs (the demo's
# answers have too little redundancy for a length-shorter pair; tests/data/README.md).
LENGTH_FILE = Path(__file__).resolve().parent / "data" / "length_prompts.jsonl"
# Real answers of five models, shipped with the tests (tests/data/README.md).
SAMPLE_FILE = Path(__file__).resolve().parent / "data" / "arena_sample.jsonl"

TOLERANCES = {"headers": 0, "list_items": 0, "bold": 0, "code_blocks": 0}


def jsonl(rows: list[dict]) -> list[str]:
    return [json.dumps(row) + "\n" for row in rows]


def demo_lines(limit: int | None = None, path: Path = DEMO_FILE) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return lines[:limit] if limit else lines


def intervention_make(direction: str = "longer", threshold: float = 0.1) -> Intervention:
    intervention, _ = Intervention.objects.get_or_create(
        name=f"length-{direction}",
        defaults={
            "attribute": "length",
            "transform": "length",
            "parameters": {"direction": direction, "dose": 0.3},
            "check_measure": "words",
            "check_threshold": threshold,
            "tolerances": TOLERANCES,
        },
    )
    return intervention


def stimulus_set_make(
    *, prompts: int = 10, directions: tuple[str, ...] = ("longer",), source: str | None = None
) -> StimulusSet:
    source = source or f"test-{secrets.token_hex(4)}"
    prompts_import(lines=demo_lines(prompts, LENGTH_FILE), source=source)
    stimulus_set = StimulusSet.objects.create(name=f"set-{source}", response_source=source, seed=11)
    stimulus_set.interventions.set([intervention_make(d) for d in directions])
    stimulus_set_generate(stimulus_set=stimulus_set)
    return stimulus_set


def study_make(
    *,
    stimulus_set: StimulusSet | None = None,
    replication_factor: int = 3,
    labels_per_annotator: int = 5,
    schema: CovariateSchema | None = None,
    owner=None,
    **fields,
) -> Study:
    stimulus_set = stimulus_set or stimulus_set_make()
    study = Study.objects.create(
        slug=fields.pop("slug", f"study-{secrets.token_hex(4)}"),
        title=fields.pop("title", "Test study"),
        status=fields.pop("status", Study.Status.RUNNING),
        replication_factor=replication_factor,
        labels_per_annotator=labels_per_annotator,
        consent_text="Consent text.",
        instructions="Pick the better answer.",
        covariate_schema=schema,
        completion_code="DONE123",
        seed=fields.pop("seed", 5),
        **fields,
    )
    study.stimulus_sets.add(stimulus_set)
    if owner is not None:
        study.owners.add(owner)
    return study


def enrollment_make(study: Study, annotator: Annotator | None = None) -> Enrollment:
    enrollment = enrollment_start(study=study, annotator=annotator or annotator_create_anonymous())
    enrollment_consent(enrollment=enrollment)
    return enrollment


def user_make(username: str, *, superuser: bool = False):
    return get_user_model().objects.create_user(
        username=username, password="pw-for-tests", is_staff=True, is_superuser=superuser
    )


def pair_set_make(name: str, *, prompt: str, control: str, treated: str) -> StimulusSet:
    """A stimulus set of one imported pair (texts exactly as given)."""
    row = {
        "prompt_id": name,
        "prompt": prompt,
        "control": control,
        "treated": treated,
        "intervention": "probe",
    }
    stimulus_pairs_import(
        lines=[json.dumps(row)], format="pairs-jsonl", source=name, stimulus_set_name=name
    )
    return StimulusSet.objects.get(name=name)


def researcher_make(username: str):
    """A staff account in the Researchers group (collection.roles), no superuser."""
    from collection.roles import researcher_group_sync

    user = user_make(username)
    user.groups.add(researcher_group_sync())
    return user
