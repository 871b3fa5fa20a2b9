import pytest
from django.conf import settings
from django.urls import reverse

from config.staff_sessions import SEEN_KEY
from tests.factories import user_make


def _age_session(client, seconds: float) -> None:
    session = client.session
    session[SEEN_KEY] -= seconds
    session.save()


@pytest.mark.django_db
def test_an_idle_researcher_is_signed_out_and_an_active_one_is_not(client):
    client.force_login(user_make("res", superuser=True))
    changelist = reverse("admin:collection_study_changelist")
    assert client.get(changelist).status_code == 200
    _age_session(client, settings.STAFF_IDLE_SECONDS - 60)
    assert client.get(changelist).status_code == 200  # active again: the clock restarts
    _age_session(client, settings.STAFF_IDLE_SECONDS - 60)
    assert client.get(changelist).status_code == 200
    _age_session(client, settings.STAFF_IDLE_SECONDS + 1)
    page = client.get(changelist)
    assert page.status_code == 302 and page["Location"].startswith(reverse("admin:login"))
    assert "_auth_user_id" not in client.session


def test_sessions_have_an_absolute_age_under_a_day():
    assert settings.SESSION_COOKIE_AGE <= 24 * 3600 and settings.STAFF_IDLE_SECONDS <= 3600
