"""Practice pairs (taught with feedback, never counted) and invitation links (single-use,
stored hashed), walked with Django's test client and the services."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotators.models import Annotator
from collection.errors import EnrollmentNotReady
from collection.models import Enrollment, Invitation, Label, PracticeAnswer, PracticePair
from collection.services import assignment_next
from collection.services.invitations import invitations_create
from collection.services.studies import study_clone
from tests.collection.test_pages import _enter, _label_once
from tests.factories import study_make, user_make


def _url(name: str, study) -> str:
    return reverse(f"collection:{name}", args=[study.slug])


def _practice(study, n: int = 2) -> list[PracticePair]:
    return [
        PracticePair.objects.create(
            study=study,
            position=i,
            prompt=f"Practice question {i}",
            left=f"A good answer {i}",
            right=f"A worse answer {i}",
            expected=PracticePair.Choice.LEFT,
            feedback=f"Answer A is right because {i}.",
        )
        for i in range(1, n + 1)
    ]


def _answer(client, study, choice: str):
    page = client.get(_url("practice", study)).content.decode()
    practice_id = re.search(r'name="practice_id" value="(\d+)"', page).group(1)
    return client.post(_url("practice", study), {"practice_id": practice_id, "choice": choice})


@pytest.mark.django_db
def test_practice_comes_before_the_pairs_gives_feedback_and_is_never_a_label(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
    first, second = _practice(study)
    _enter(client, study)
    consented = client.post(_url("consent", study), {"agree": "on"})
    assert consented.url == _url("practice", study)
    # The label page and the engine both wait for the practice.
    assert client.get(_url("label", study)).url == _url("practice", study)
    enrollment = Enrollment.objects.get()
    with pytest.raises(EnrollmentNotReady, match="practice"):
        assignment_next(enrollment_id=enrollment.pk)

    wrong = _answer(client, study, "right")
    assert wrong.url == f"{_url('practice', study)}?answered={first.pk}"
    feedback = client.get(wrong.url).content.decode()
    assert "not quite" in feedback and "Answer A is right because 1." in feedback
    assert "Next practice pair" in feedback
    # A resent answer changes nothing: the first one stands.
    client.post(_url("practice", study), {"practice_id": first.pk, "choice": "left"})
    assert PracticeAnswer.objects.get(practice=first).correct is False

    right = _answer(client, study, "left")
    last = client.get(right.url).content.decode()
    assert "That is the expected answer." in last and "Start the study" in last
    enrollment.refresh_from_db()
    assert enrollment.practice_done_at is not None
    assert [a.correct for a in PracticeAnswer.objects.order_by("practice__position")] == [
        False,
        True,
    ]
    assert client.get(_url("practice", study)).url == _url("label", study)
    assert not Label.objects.exists()
    assert _label_once(client, study.slug).url == _url("done", study)
    assert Label.objects.count() == 1
    assert assignment_next(enrollment_id=enrollment.pk).labels_done == 1


@pytest.mark.django_db
def test_a_practice_form_without_a_choice_says_so_and_stores_nothing(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set)
    (pair,) = _practice(study, 1)
    _enter(client, study)
    client.post(_url("consent", study), {"agree": "on"})
    refused = client.post(_url("practice", study), {"practice_id": pair.pk}, follow=True)
    assert "Choose which response is better" in refused.content.decode()
    assert not PracticeAnswer.objects.exists()


@pytest.mark.django_db
def test_a_clone_keeps_the_practice_pairs(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, invitation_only=True, require_both_opened=True)
    _practice(study)
    owner = user_make("cloner")
    clone = study_clone(study=study, owner_id=owner.pk)
    copied = list(clone.practice_pairs.values_list("position", "prompt", "expected", "feedback"))
    original = list(study.practice_pairs.values_list("position", "prompt", "expected", "feedback"))
    assert copied == original and len(copied) == 2
    assert clone.invitation_only and clone.require_both_opened


def _invite_query(link: str) -> str:
    return link[link.index("?") :]


@pytest.mark.django_db
def test_an_invitation_admits_one_person_and_only_its_hash_is_stored(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, invitation_only=True)
    (token,) = invitations_create(study=study, count=1, note="lab")
    stored = Invitation.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64

    arrived = client.get(_url("entry", study) + f"?invite={token}")
    assert arrived.url == _url("entry", study)  # on at the clean URL
    client.post(_url("entry", study))
    stored.refresh_from_db()
    enrollment = Enrollment.objects.get()
    assert stored.enrollment == enrollment and stored.used_at is not None
    assert enrollment.annotator.recruitment == Annotator.Recruitment.INVITATION
    # The invited person's own browser goes on; anyone else is refused, and nothing changes.
    assert client.get(_url("entry", study) + f"?invite={token}").url == _url("consent", study)
    client.logout()
    again = client.get(_url("entry", study) + f"?invite={token}")
    assert again.status_code == 403 and "already been used" in again.content.decode()
    assert Enrollment.objects.count() == 1


@pytest.mark.django_db
def test_an_invitation_only_study_refuses_open_prolific_and_wrong_links(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, invitation_only=True)
    other = study_make(stimulus_set=stimulus_set)
    (foreign,) = invitations_create(study=other, count=1)
    for query in ("", "?PROLIFIC_PID=p&STUDY_ID=s&SESSION_ID=x", f"?invite={foreign}"):
        page = client.get(_url("entry", study) + query)
        assert page.status_code == 403, query
        assert "invit" in page.content.decode()
        assert client.post(_url("entry", study)).status_code == 403
    assert not Enrollment.objects.exists()
    # An open study still takes its open link.
    client.post(_url("entry", other))
    assert Enrollment.objects.filter(study=other).count() == 1


@pytest.mark.django_db
def test_two_browsers_racing_on_one_link_get_one_place(client, stimulus_set):
    from django.test import Client

    study = study_make(stimulus_set=stimulus_set)
    (token,) = invitations_create(study=study, count=1)
    second = Client()
    for browser in (client, second):
        browser.get(_url("entry", study) + f"?invite={token}")
    assert client.post(_url("entry", study)).status_code == 302
    assert second.post(_url("entry", study)).status_code == 403
    assert Enrollment.objects.count() == 1


@pytest.mark.django_db
def test_the_invite_command_prints_working_links(client, stimulus_set, capsys):
    study = study_make(stimulus_set=stimulus_set)
    call_command("invite", study.slug, "--count", "3", "--note", "panel")
    links = capsys.readouterr().out.split()
    assert len(links) == 3 and len(set(links)) == 3
    assert Invitation.objects.filter(study=study, note="panel").count() == 3
    client.get(_url("entry", study) + _invite_query(links[0]))
    client.post(_url("entry", study))
    assert Invitation.objects.filter(used_at__isnull=False).count() == 1


@pytest.mark.django_db
def test_researchers_make_links_in_the_admin_for_their_own_studies_only(client, stimulus_set):
    from tests.factories import researcher_make

    owner, stranger = researcher_make("inviter"), researcher_make("stranger")
    study = study_make(stimulus_set=stimulus_set, owner=owner)
    add = reverse("admin:collection_invitation_add")
    client.force_login(stranger)
    refused = client.post(add, {"study": study.pk, "count": 2})
    assert "Select a valid choice" in refused.content.decode()
    assert not Invitation.objects.exists()
    client.force_login(owner)
    made = client.post(add, {"study": study.pk, "count": 2, "note": "pilot"}).content.decode()
    links = re.findall(r"http://testserver/s/[\w-]+/\?invite=[\w-]+", made)
    assert len(links) == 2 and "shown only once" in made
    listing = client.get(reverse("admin:collection_invitation_changelist")).content.decode()
    assert "pilot" in listing and links[0].split("=")[1] not in listing
    client.force_login(stranger)
    listing = client.get(reverse("admin:collection_invitation_changelist")).content.decode()
    assert "pilot" not in listing
