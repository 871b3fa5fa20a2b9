import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.urls import reverse

from analysis.services import study_estimates_refresh
from collection.services import assignment_next, label_submit
from tests.factories import enrollment_make, study_make, user_make


@pytest.mark.django_db
def test_researchers_see_only_their_own_studies(client, stimulus_set):
    alice, bob = user_make("alice"), user_make("bob")
    study_permissions = Permission.objects.filter(codename__in=["view_study", "change_study"])
    for user in (alice, bob):
        user.user_permissions.add(*study_permissions)
    mine = study_make(stimulus_set=stimulus_set, owner=alice, title="Alice's study")
    theirs = study_make(stimulus_set=stimulus_set, owner=bob, title="Bob's study")
    client.force_login(alice)
    listing = client.get(reverse("admin:collection_study_changelist")).content.decode()
    assert "Alice&#x27;s study" in listing and "Bob&#x27;s study" not in listing
    assert client.get(reverse("admin:collection_study_change", args=[mine.pk])).status_code == 200
    foreign = client.get(reverse("admin:collection_study_change", args=[theirs.pk]))
    assert foreign.status_code == 302  # the admin redirects away from objects it cannot find


@pytest.mark.django_db
def test_study_page_shows_latest_estimates_and_exports(admin_client, study):
    for _ in range(3):
        enrollment = enrollment_make(study)
        while (a := assignment_next(enrollment_id=enrollment.pk).assignment) is not None:
            label_submit(
                enrollment_id=enrollment.pk,
                assignment_id=a.pk,
                submission_id=uuid.uuid4(),
                choice="left",
                strength=2,
            )
    estimate = next(e for e in study_estimates_refresh(study_id=study.pk) if e.estimand == "amce")
    page = admin_client.get(reverse("admin:collection_study_change", args=[study.pk]))
    html = page.content.decode()
    assert 'id="estimates"' in html and f"{estimate.point:+.3f}" in html
    export = admin_client.post(
        reverse("admin:collection_study_changelist"),
        {"action": "export_jsonl", "_selected_action": [study.pk]},
    )
    # The action opens the study's export page, which the study page links to as well.
    exports_page = reverse("admin:collection_study_exports", args=[study.pk])
    assert export.status_code == 302 and export["Location"] == exports_page
    assert exports_page in html
    assert admin_client.get(exports_page).status_code == 200


@pytest.mark.django_db
def test_admin_import_reports_errors_and_imports_nothing(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from interventions.models import Prompt

    bad = SimpleUploadedFile(
        "bad.jsonl", b'{"prompt_id": "a", "prompt": "q", "responses": {"m": ""}}\n'
    )
    page = admin_client.post(reverse("admin:prompt_import"), {"file": bad})
    assert page.status_code == 200
    assert "line 1: field &#x27;responses.m&#x27; is empty" in page.content.decode()
    assert not Prompt.objects.exists()
    good = SimpleUploadedFile(
        "good.jsonl", b'{"prompt_id": "a", "prompt": "q", "responses": {"m": "r"}}\n'
    )
    done = admin_client.post(reverse("admin:prompt_import"), {"file": good})
    assert done.status_code == 302 and Prompt.objects.get().source == "good.jsonl"


def test_study_admin_form_covers_every_editable_field():
    from collection.admin import StudyAdmin
    from collection.models import Study

    editable = {
        f.name for f in Study._meta.get_fields() if f.concrete and not f.auto_created and f.editable
    }
    shown = {name for _, options in StudyAdmin.fieldsets for name in options["fields"]}
    # The creator owns the study; others are granted access as collaborators, by username,
    # so the form never lists the other researchers.
    not_in_form = {"owners"}
    missing = editable - shown - not_in_form
    assert not missing, f"add {sorted(missing)} to StudyAdmin.fieldsets"


def test_help_texts_are_plain_text():
    # The admin renders help_text as HTML: a '<slug>' there disappears from the page.
    ours = ("annotators", "collection", "interventions", "analysis")
    offending = [
        f"{model.__name__}.{field.name}: {field.help_text!r}"
        for app in ours
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if any(c in str(getattr(field, "help_text", "")) for c in "<&")
    ]
    assert offending == []


@pytest.mark.django_db
def test_slug_help_renders_the_entry_link(admin_client):
    page = admin_client.get(reverse("admin:collection_study_add")).content.decode()
    assert "The entry link is /s/ followed by this slug, e.g. /s/demo/." in page
