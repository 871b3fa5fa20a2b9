"""Rate limits answer 429 with Retry-After and change nothing: new annotator sessions per
client address, labels per enrollment, and the admin's sign-in lockout."""

import threading
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from collection.models import Enrollment, Label
from collection.throttles import EnrollmentRateThrottle
from config.redis_client import redis_client
from tests.collection.test_api import _body, _enrolled_client, _label, _next
from tests.factories import study_make
from tests.services import HOW_TO_RUN_SERVICES, redis_reachable, require


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_new_sessions_per_address_are_limited_and_the_page_says_when_to_retry(
    settings, stimulus_set
):
    settings.ENTRY_RATE_PER_MINUTE = 3
    study = study_make(stimulus_set=stimulus_set)
    entry = reverse("collection:entry", args=[study.slug])
    answers = [Client().post(entry, REMOTE_ADDR="203.0.113.7") for _ in range(4)]
    assert [a.status_code for a in answers] == [302, 302, 302, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "try again" in refused.content.decode()
    assert Enrollment.objects.count() == 3
    # Another address is not affected; behind a trusted proxy the forwarded address counts.
    assert Client().post(entry, REMOTE_ADDR="203.0.113.8").status_code == 302
    settings.NUM_PROXIES = 1
    forwarded = Client().post(entry, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert forwarded.status_code == 429


@pytest.mark.django_db
def test_labels_per_enrollment_are_limited_and_the_refused_one_is_not_stored(
    settings, stimulus_set
):
    settings.LABEL_RATE = "2/min"
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=5)
    client = _enrolled_client(study)
    codes = []
    for _ in range(3):
        pair = _next(client, study).json()["pair"]
        codes.append(_label(client, study, _body(pair["assignment_id"])))
    assert [c.status_code for c in codes] == [201, 201, 429]
    assert int(codes[-1]["Retry-After"]) >= 1 and "throttled" in codes[-1].json()["detail"]
    assert Label.objects.count() == 2
    # Another annotator labels on.
    other = _enrolled_client(study)
    pair = _next(other, study).json()["pair"]
    assert _label(other, study, _body(pair["assignment_id"])).status_code == 201


def test_labels_sent_at_once_never_pass_the_limit_together_and_the_refused_do_not_count(
    settings,
):
    require(redis_reachable(), "Redis", HOW_TO_RUN_SERVICES)
    settings.LABEL_RATE = "5/min"
    request = SimpleNamespace(user=SimpleNamespace(enrollment_id=424242))
    start = threading.Barrier(20)
    answers: list[bool] = []
    waits: list[float | None] = []

    def submit() -> None:
        throttle = EnrollmentRateThrottle()
        start.wait()
        allowed = throttle.allow_request(request, None)
        answers.append(allowed)
        if not allowed:
            waits.append(throttle.wait())

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(True) == 5
    assert all(w is not None and 0 < w <= 60 for w in waits) and len(waits) == 15
    key = EnrollmentRateThrottle().get_cache_key(request, None)
    assert redis_client(settings.REDIS_URL, timeout=2).zcard(key) == 5


@pytest.mark.django_db
def test_admin_sign_in_locks_out_a_username_and_address_after_ten_failures(settings):
    get_user_model().objects.create_user("rita", password="right-password-42", is_staff=True)
    login = reverse("admin:login")
    client = Client(REMOTE_ADDR="198.51.100.2")
    answers = [
        client.post(login, {"username": "rita", "password": "guess"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    # The form again with its error, until the tenth failure locks the pair out.
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    locked = client.post(login, {"username": "rita", "password": "right-password-42"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) == 900
    assert "locked for 15 minutes" in locked.content.decode()
    # The same person from another address, or another user here, can still sign in.
    elsewhere = Client(REMOTE_ADDR="198.51.100.3")
    ok = elsewhere.post(login, {"username": "rita", "password": "right-password-42"})
    assert ok.status_code == 302


@pytest.mark.django_db
def test_an_oversized_body_is_refused_before_it_is_read(settings, stimulus_set):
    settings.REQUEST_MAX_BYTES = 1_000_000
    study = study_make(stimulus_set=stimulus_set)
    entry = reverse("collection:entry", args=[study.slug])
    page = Client().post(entry, data=b"x" * 1_000_001, content_type="application/octet-stream")
    assert page.status_code == 413 and "at most 1 MB" in page.content.decode()
    api = Client().post(
        reverse("collection_api:label", args=[study.slug]),
        data=b"{" + b" " * 1_000_000 + b"}",
        content_type="application/json",
    )
    assert api.status_code == 413 and "at most 1 MB" in api.json()["detail"]
    assert not Enrollment.objects.exists()
