"""The access matrix: every admin page of every registered model, the results page and the
annotator API, for each kind of visitor, against the records of Alice's study.

Visitors: anonymous; an annotator of another study; an annotator of this study; Bob, a
researcher without access; Carol, a collaborator with the read role; Alice, the owner.
Research records of the study are readable by Alice and Carol; Alice's library (prompts,
responses, stimulus set, stimuli) by Alice alone; user accounts and the sign-in log by
administrators alone. Nobody else can open a record or find it in a list."""

import uuid

import numpy as np
import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from analysis.models import Estimate, RefreshRun
from analysis.services import study_refresh
from annotators.models import Annotator, ConsentRecord, CovariateResponse, CovariateSchema
from annotators.services import consent_record
from audit.models import RewardModel
from collection.models import Enrollment, Invitation, Label, StudyAccess, Webhook
from collection.services.api_tokens import api_token_create
from collection.services.invitations import invitations_create
from interventions.models import Intervention, Prompt, Response, Stimulus, StimulusSet
from tests.analysis.helpers import QUESTIONS, label_study
from tests.collection.test_api import _enrolled_client, _next
from tests.factories import researcher_make, stimulus_set_make, study_make

STUDY_RECORDS = (
    "collection.study", "collection.enrollment", "collection.assignment", "collection.label",
    "annotators.annotator", "annotators.covariateresponse", "annotators.consentrecord",
    "annotators.covariateschema", "analysis.estimate", "analysis.refreshrun",
    "collection.invitation",
)  # fmt: skip
LIBRARY = ("interventions.prompt", "interventions.response", "interventions.stimulusset",
           "interventions.stimulus", "collection.apitoken", "collection.webhook",
           "audit.rewardmodel")  # fmt: skip
SHARED = ("interventions.intervention",)  # the catalogue


@pytest.fixture
def world():
    alice, bob, carol = researcher_make("alice"), researcher_make("bob"), researcher_make("carol")
    stimulus_set = stimulus_set_make(prompts=12, source="alice-src")
    Prompt.objects.filter(source="alice-src").update(owner=alice)
    StimulusSet.objects.filter(pk=stimulus_set.pk).update(owner=alice)
    schema = CovariateSchema.objects.create(name="alice-q", questions=QUESTIONS, owner=alice)
    study = study_make(
        stimulus_set=stimulus_set, owner=alice, schema=schema, labels_per_annotator=4
    )
    StudyAccess.objects.create(study=study, user=carol, role="read", granted_by=alice)
    label_study(study, annotators=3, rng=np.random.default_rng(1))
    study_refresh(study_id=study.pk)
    label = Label.objects.filter(study=study).first()
    consent_record(annotator=label.assignment.annotator, scope=study.slug, text="I agree.")
    prompt = Prompt.objects.filter(owner=alice).first()
    invitations_create(study=study, count=1, created_by=alice)
    invitation_pk = Invitation.objects.get(study=study).pk
    records: dict[str, Model] = {
        "collection.study": study,
        "collection.enrollment": Enrollment.objects.filter(study=study).first(),
        "collection.assignment": label.assignment,
        "collection.label": label,
        "annotators.annotator": Annotator.objects.get(pk=label.assignment.annotator_id),
        "annotators.covariateresponse": CovariateResponse.objects.filter(schema=schema).first(),
        "annotators.consentrecord": ConsentRecord.objects.filter(scope=study.slug).first(),
        "annotators.covariateschema": schema,
        "analysis.estimate": Estimate.objects.filter(study=study).first(),
        "analysis.refreshrun": RefreshRun.objects.filter(study=study).first(),
        "collection.invitation": Invitation.objects.get(pk=invitation_pk),
        "collection.apitoken": api_token_create(user=alice, name="alice's")[0],
        "collection.webhook": Webhook.objects.create(
            study=study, url="https://example.org/hook", events=["label.created"]
        ),
        "interventions.prompt": prompt,
        "interventions.response": Response.objects.filter(prompt=prompt).first(),
        "interventions.stimulusset": stimulus_set,
        "interventions.stimulus": Stimulus.objects.filter(stimulus_set=stimulus_set).first(),
        "interventions.intervention": Intervention.objects.first(),
        "audit.rewardmodel": RewardModel.objects.create(
            name="alice's model", source=RewardModel.Source.SCORES, owner=alice
        ),
    }
    assert all(records.values()), [k for k, v in records.items() if v is None]
    other = study_make(stimulus_set=stimulus_set_make(prompts=3), slug="elsewhere")
    return {"alice": alice, "bob": bob, "carol": carol, "study": study, "other": other,
            "records": records}  # fmt: skip


def _url(model: type[Model], page: str, *args) -> str:
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{page}", args=args)


def _admin_pages() -> list[type[Model]]:
    return sorted(admin.site._registry, key=lambda m: m._meta.label_lower)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "annotator-elsewhere", "annotator-here"])
def test_people_without_a_staff_account_reach_no_admin_page(world, who):
    if who == "anonymous":
        client = Client()
    else:
        client = _enrolled_client(world["other" if who == "annotator-elsewhere" else "study"])
    for model in _admin_pages():
        answer = client.get(_url(model, "changelist"))
        assert answer.status_code == 302 and "/admin/login/" in answer["Location"], model
    results = client.get(reverse("analysis:results", args=[world["study"].slug]))
    assert results.status_code == 302 and "/admin/login/" in results["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bob", "carol", "alice"])
def test_each_researcher_opens_exactly_what_they_may(client, world, who):
    client.force_login(world[who])
    for model in _admin_pages():
        label = model._meta.label_lower
        listing = client.get(_url(model, "changelist"))
        obj = world["records"].get(label)
        if obj is None:  # accounts, groups, the sign-in log: administrators only
            assert listing.status_code == 403, label
            continue
        may_read = (
            label in SHARED
            or (label in STUDY_RECORDS and who in ("alice", "carol"))
            or (label in LIBRARY and who == "alice")
        )
        change = _url(model, "change", obj.pk)
        page = client.get(change)
        if may_read:
            assert listing.status_code == 200 and change in listing.content.decode(), (who, label)
            assert page.status_code == 200, (who, label)
        else:
            assert change not in listing.content.decode(), (who, label)
            assert page.status_code in (302, 403, 404), (who, label)
    results = client.get(reverse("analysis:results", args=[world["study"].slug]))
    assert results.status_code == (404 if who == "bob" else 200)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bob", "carol"])
def test_no_one_but_the_owner_changes_or_exports_the_study(client, world, who):
    study = world["study"]
    client.force_login(world[who])
    before = (study.title, study.labels_per_annotator)
    client.post(_url(type(study), "change", study.pk), {"title": "taken over"})
    study.refresh_from_db()
    assert (study.title, study.labels_per_annotator) == before
    export = client.post(
        _url(type(study), "changelist"),
        {"action": "export_jsonl", "_selected_action": [study.pk]},
    )
    exports_page = reverse("admin:collection_study_exports", args=[study.pk])
    if who == "bob":
        assert export.get("Location") != exports_page
        assert client.get(exports_page).status_code == 404
    else:  # a reader may export: results, exports and records
        assert export.status_code == 302 and export["Location"] == exports_page
        assert client.get(exports_page).status_code == 200


@pytest.mark.django_db
def test_the_annotator_api_answers_only_the_studys_own_annotators(world):
    study = world["study"]
    assert _next(Client(), study).status_code == 401
    assert _next(_enrolled_client(world["other"]), study).status_code == 401
    here = _next(_enrolled_client(study), study)
    # Recognised as this study's annotator: told to answer the questionnaire first.
    assert here.status_code == 403 and "questionnaire" in here.json()["detail"]
    label = reverse("collection_api:label", args=[study.slug])
    body = {"assignment_id": 1, "submission_id": str(uuid.uuid4()), "choice": "left",
            "strength": 2}  # fmt: skip
    assert Client().post(label, body, content_type="application/json").status_code == 401
