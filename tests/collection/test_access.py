"""Collaborators: a study is readable by its owners and grantees, editable by owners and
edit grantees, and invisible to everyone else (collection.access)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from collection.access import studies_editable, studies_readable
from collection.models import StudyAccess
from tests.factories import user_make

STUDY_PERMISSIONS = ["view_study", "change_study", "add_studyaccess", "change_studyaccess"]


def researcher(name: str):
    user = user_make(name)
    user.user_permissions.add(*Permission.objects.filter(codename__in=STUDY_PERMISSIONS))
    return user


@pytest.fixture
def people(study):
    owner, reader, editor, stranger = (researcher(n) for n in ("ow", "rd", "ed", "st"))
    study.owners.add(owner)
    StudyAccess.objects.create(study=study, user=reader, role="read", granted_by=owner)
    StudyAccess.objects.create(study=study, user=editor, role="edit", granted_by=owner)
    return owner, reader, editor, stranger


@pytest.mark.django_db
def test_selectors_follow_the_grants(study, people):
    owner, reader, editor, stranger = people
    readable = {u.username for u in people if studies_readable(user=u).filter(pk=study.pk)}
    editable = {u.username for u in people if studies_editable(user=u).filter(pk=study.pk)}
    assert readable == {"ow", "rd", "ed"} and editable == {"ow", "ed"}
    stranger.is_staff = False  # an annotator-facing account is never a researcher
    owner.is_active = False
    assert not studies_readable(user=owner).exists()


@pytest.mark.django_db
def test_results_page_and_admin_honour_the_grants(client, study, people):
    owner, reader, editor, stranger = people
    change = reverse("admin:collection_study_change", args=[study.pk])
    expected = {owner: (200, True), reader: (200, False), editor: (200, True)}
    for user, (status, can_edit) in expected.items():
        client.force_login(user)
        assert client.get(f"/results/{study.slug}/").status_code == status
        page = client.get(change)
        assert page.status_code == status
        assert ('name="title"' in page.content.decode()) is can_edit, user.username
    client.force_login(stranger)
    assert client.get(f"/results/{study.slug}/").status_code == 404
    assert client.get(change).status_code == 302  # the admin cannot find it
    listing = client.get(reverse("admin:collection_study_changelist")).content.decode()
    assert study.title not in listing


@pytest.mark.django_db
def test_a_reader_cannot_change_the_study(client, study, people):
    _, reader, _, _ = people
    client.force_login(reader)
    change = reverse("admin:collection_study_change", args=[study.pk])
    response = client.post(change, {"title": "renamed"})
    study.refresh_from_db()
    assert response.status_code == 403 and study.title != "renamed"


@pytest.mark.django_db
def test_the_study_page_names_no_researcher_outside_the_study(client, study, people):
    owner, _, _, stranger = people
    client.force_login(owner)
    html = client.get(reverse("admin:collection_study_change", args=[study.pk])).content.decode()
    assert 'value="rd"' in html and 'value="ed"' in html  # the grants, by username
    assert ">st<" not in html and 'value="st"' not in html


@pytest.mark.django_db
def test_grants_name_an_existing_researcher(study, people):
    from collection.admin import StudyAccessForm

    user_make("outsider").__class__.objects.filter(username="outsider").update(is_staff=False)
    for username, ok in (("st", True), ("nobody", False), ("outsider", False)):
        form = StudyAccessForm(
            data={"username": username, "role": "read"}, instance=StudyAccess(study=study)
        )
        assert form.is_valid() is ok, username
        if ok:
            assert form.instance.user.username == "st"
        else:
            assert "no researcher account is called" in str(form.errors["username"])
