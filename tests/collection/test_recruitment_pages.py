"""The recruitment loop's pages, walked with Django's test client: decline, stop and
return, the completion redirect, the consent page's facts and the admin's study URL."""

import html

import pytest
from django.urls import reverse

from annotators.models import ConsentRecord, CovariateResponse, CovariateSchema
from collection.demo import demo_seed
from collection.models import Assignment, Enrollment, Study
from collection.recruitment import PROLIFIC_COMPLETION_URL, enrollment_code
from collection.services import assignment_next
from tests.collection.helpers import submit
from tests.collection.test_pages import _enter, _label_once
from tests.factories import enrollment_make, study_make, user_make

PROLIFIC_LINK = "?PROLIFIC_PID=p-1&STUDY_ID=st&SESSION_ID=se"
PROLIFIC = "https://app.prolific.com/submissions/complete?cc="


def _url(name: str, study: Study) -> str:
    return reverse(f"collection:{name}", args=[study.slug])


def _redirects_to(page, url: str) -> bool:
    return f'<meta http-equiv="refresh" content="0; url={html.escape(url)}">' in page


@pytest.fixture
def loop_study(stimulus_set):
    return study_make(
        stimulus_set=stimulus_set,
        labels_per_annotator=2,
        no_consent_code="NOPE1",
        returned_code="BACK1",
    )


@pytest.mark.django_db
def test_consent_page_states_duration_pay_and_contact_when_set(client, stimulus_set):
    study = study_make(
        stimulus_set=stimulus_set,
        expected_duration="about 12 minutes",
        payment="£3.00",
        contact="Dr Ng <ng@example.org> <script>x</script>",
    )
    _enter(client, study)
    page = client.get(_url("consent", study)).content.decode()
    assert '<dd id="fact-duration">about 12 minutes</dd>' in page
    assert '<dd id="fact-payment">£3.00</dd>' in page
    assert 'href="mailto:ng@example.org"' in page
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    bare = study_make(stimulus_set=stimulus_set)
    client.logout()
    _enter(client, bare)
    assert 'class="facts"' not in client.get(_url("consent", bare)).content.decode()


@pytest.mark.django_db
def test_decline_stores_only_the_decline_and_sends_the_no_consent_code(client, loop_study):
    consent = _enter(client, loop_study, PROLIFIC_LINK)
    assert consent.url == _url("consent", loop_study)
    declined = client.post(_url("decline", loop_study))
    assert declined.status_code == 302 and declined.url == _url("ended", loop_study)
    page = client.get(declined.url).content.decode()
    assert _redirects_to(page, PROLIFIC + "NOPE1") and "You chose not to take part" in page

    enrollment = Enrollment.objects.get()
    assert enrollment.declined_at is not None and enrollment.consented_at is None
    assert not ConsentRecord.objects.exists() and not CovariateResponse.objects.exists()
    assert not Assignment.objects.exists()

    # Later visits show the page, with the link, without sending the browser away.
    again = client.get(_url("ended", loop_study)).content.decode()
    assert not _redirects_to(again, PROLIFIC + "NOPE1")
    assert f'href="{PROLIFIC}NOPE1"' in again
    for step in ("consent", "about_you", "label", "done", "stop"):
        assert client.get(_url(step, loop_study)).url == _url("ended", loop_study), step
    refused = client.post(_url("consent", loop_study), {"agree": "on"})
    assert refused.url == _url("ended", loop_study) and not ConsentRecord.objects.exists()


@pytest.mark.django_db
def test_a_declined_participant_coming_back_is_not_enrolled_again(client, loop_study):
    _enter(client, loop_study, PROLIFIC_LINK)
    client.post(_url("decline", loop_study))
    client.logout()
    back = _enter(client, loop_study, PROLIFIC_LINK)
    assert back.url == _url("ended", loop_study)
    page = client.get(back.url).content.decode()
    assert "You chose not to take part" in page and 'http-equiv="refresh"' not in page
    assert Enrollment.objects.count() == 1


@pytest.mark.django_db
def test_without_codes_or_from_the_open_link_there_is_no_redirect(client, stimulus_set):
    blank = study_make(stimulus_set=stimulus_set)  # no no-consent code
    _enter(client, blank, PROLIFIC_LINK)
    page = client.get(client.post(_url("decline", blank)).url).content.decode()
    assert "You chose not to take part" in page and "app.prolific.com" not in page

    coded = study_make(stimulus_set=stimulus_set, no_consent_code="NOPE1")
    client.logout()
    _enter(client, coded)  # the open link: no recruitment site to go back to
    page = client.get(client.post(_url("decline", coded)).url).content.decode()
    assert "NOPE1" in page and "app.prolific.com" not in page


@pytest.mark.django_db
def test_done_redirects_to_the_completion_url_with_the_code(client, loop_study):
    _enter(client, loop_study, PROLIFIC_LINK)
    client.post(_url("consent", loop_study), {"agree": "on"})
    for _ in range(2):
        response = _label_once(client, loop_study.slug)
    assert response.url == _url("done", loop_study)
    page = client.get(response.url).content.decode()
    assert _redirects_to(page, PROLIFIC + "DONE123")
    assert f'href="{PROLIFIC}DONE123"' in page and 'id="completion-code">DONE123<' in page
    assert client.get(_url("stop", loop_study)).url == _url("done", loop_study)


@pytest.mark.django_db
def test_a_study_without_a_code_shows_each_participant_their_own(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
    Study.objects.filter(pk=study.pk).update(
        completion_code="", completion_url_template="https://example.org/end/{code}"
    )
    _enter(client, study, PROLIFIC_LINK)
    client.post(_url("consent", study), {"agree": "on"})
    done = _label_once(client, study.slug)
    page = client.get(done.url).content.decode()
    own = enrollment_code(study_id=study.pk, enrollment_id=Enrollment.objects.get().pk)
    assert f'id="completion-code">{own}<' in page
    assert "example.org" not in page and 'http-equiv="refresh"' not in page


@pytest.mark.django_db
def test_a_custom_completion_url_gets_the_code_in_its_slot(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
    Study.objects.filter(pk=study.pk).update(
        completion_url_template="https://panel.example.org/finish/{code}?src=cp"
    )
    _enter(client, study, PROLIFIC_LINK)
    client.post(_url("consent", study), {"agree": "on"})
    page = client.get(_label_once(client, study.slug).url).content.decode()
    assert _redirects_to(page, "https://panel.example.org/finish/DONE123?src=cp")


@pytest.mark.django_db
def test_stop_and_return_confirms_releases_the_pair_and_sends_the_returned_code(client, loop_study):
    _enter(client, loop_study, PROLIFIC_LINK)
    client.post(_url("consent", loop_study), {"agree": "on"})
    label_page = client.get(_url("label", loop_study)).content.decode()
    assert f'href="{_url("stop", loop_study)}"' in label_page
    confirm = client.get(_url("stop", loop_study))
    assert confirm.status_code == 200 and b"Yes, stop and return" in confirm.content
    assert Enrollment.objects.get().returned_at is None  # a GET changes nothing

    stopped = client.post(_url("stop", loop_study))
    assert stopped.url == _url("ended", loop_study)
    page = client.get(stopped.url).content.decode()
    assert _redirects_to(page, PROLIFIC + "BACK1") and "You have stopped" in page
    assert Assignment.objects.get().state == Assignment.State.RETURNED
    assert client.get(_url("label", loop_study)).url == _url("ended", loop_study)
    api = client.post(reverse("collection_api:next", args=[loop_study.slug]))
    assert api.status_code == 403 and "declined or returned" in api.json()["detail"]


@pytest.mark.django_db
def test_stop_before_consent_leads_to_the_consent_page(client, loop_study):
    _enter(client, loop_study, PROLIFIC_LINK)
    assert client.post(_url("stop", loop_study)).url == _url("consent", loop_study)
    assert client.get(_url("decline", loop_study)).status_code == 405
    assert Enrollment.objects.get().returned_at is None


@pytest.mark.django_db
def test_questionnaire_page_offers_stop_too(client, stimulus_set):
    schema = CovariateSchema.objects.create(
        name="q", questions=[{"key": "k", "label": "K", "type": "text"}]
    )
    study = study_make(stimulus_set=stimulus_set, schema=schema)
    _enter(client, study)
    client.post(_url("consent", study), {"agree": "on"})
    page = client.get(_url("about_you", study)).content.decode()
    assert f'href="{_url("stop", study)}"' in page


@pytest.mark.django_db
def test_admin_shows_the_exact_study_url_for_prolific(client, loop_study):
    owner = user_make("owner", superuser=True)
    client.force_login(owner)
    page = client.get(reverse("admin:collection_study_change", args=[loop_study.pk]))
    text = html.unescape(page.content.decode())
    expected = (
        f"http://testserver/s/{loop_study.slug}/"
        "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )
    assert f'value="{expected}"' in text and "Recruitment" in text
    for field in ("completion_url_template", "no_consent_code", "returned_code", "payment"):
        assert f'name="{field}"' in text, field


@pytest.mark.django_db
def test_admin_lists_each_enrollment_s_outcome_and_code(client, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
    Study.objects.filter(pk=study.pk).update(completion_code="")
    enrollment = enrollment_make(study)
    submit(enrollment, assignment_next(enrollment_id=enrollment.pk).assignment)
    client.force_login(user_make("owner", superuser=True))
    listing = client.get(reverse("admin:collection_enrollment_changelist")).content.decode()
    assert enrollment_code(study_id=study.pk, enrollment_id=enrollment.pk) in listing
    assert "Returned at" in listing and "Declined at" in listing


@pytest.mark.django_db
def test_the_demo_study_closes_the_loop_for_its_prolific_link(client):
    study = demo_seed()
    assert study.completion_url_template == PROLIFIC_COMPLETION_URL
    codes = (study.completion_code, study.no_consent_code, study.returned_code)
    assert codes == ("CPDEMO01", "CPDEMONC", "CPDEMORT")
    _enter(client, study, "?PROLIFIC_PID=demo-pid-1&STUDY_ID=demo&SESSION_ID=s1")
    page = client.get(client.post(_url("decline", study)).url).content.decode()
    assert _redirects_to(page, PROLIFIC + "CPDEMONC")
