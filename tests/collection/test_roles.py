import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from collection.models import StudyAccess
from collection.roles import RESEARCHER_GROUP, RESEARCHER_PERMISSIONS


@pytest.mark.django_db
def test_migrate_leaves_the_researcher_group_with_exactly_its_permissions():
    group = Group.objects.get(name=RESEARCHER_GROUP)
    held = {(p.content_type.app_label, p.codename) for p in group.permissions.all()}
    wanted = {
        (app, f"{action}_{model}")
        for app, models in RESEARCHER_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    }
    assert held == wanted
    assert not any(
        code.startswith(("change_label", "delete_"))
        # Grants, practice pairs and webhooks are settings, not research records (a
        # practice pair with answers is protected from deletion by its answers' key).
        for _, code in held
        - {
            ("collection", "delete_studyaccess"),
            ("collection", "delete_practicepair"),
            ("collection", "delete_webhook"),
        }
    )


@pytest.mark.django_db
def test_a_created_researcher_builds_their_own_study_and_sees_no_other(client, study, capsys):
    call_command("researcher_create", "rita", email="rita@example.org")
    password = capsys.readouterr().out.rsplit("password: ", 1)[1].strip()
    with pytest.raises(CommandError, match="exists already"):
        call_command("researcher_create", "rita")
    rita = get_user_model().objects.get(username="rita")
    assert rita.is_staff and not rita.is_superuser
    # Signed in through the admin's form, as a person does (the lockout needs the request).
    signed_in = client.post(
        reverse("admin:login"), {"username": "rita", "password": password, "next": "/admin/"}
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get(reverse("admin:collection_study_add")).status_code == 200
    assert client.get(reverse("admin:collection_study_change", args=[study.pk])).status_code == 302
    for model in ("label", "enrollment", "annotator", "covariateresponse", "consentrecord"):
        app = (
            "annotators"
            if model in {"annotator", "covariateresponse", "consentrecord"}
            else ("collection")
        )
        listing = client.get(reverse(f"admin:{app}_{model}_changelist"))
        assert listing.status_code == 200, model
    StudyAccess.objects.create(study=study, user=rita, role="read")
    assert client.get(reverse("admin:collection_study_change", args=[study.pk])).status_code == 200
