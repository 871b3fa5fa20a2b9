"""Operations: liveness and readiness, a database outage answered 503 with Retry-After
and healed without a restart, sessions that do not need Redis, request ids on responses,
log lines and task messages, and Prometheus metrics."""

import json
import logging

import pytest
from celery import current_app
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from config.request_id import REQUEST_ID, RequestIdFilter, RequestIdMiddleware
from tests.collection.test_api import _body, _enrolled_client, _label, _next
from tests.factories import study_make
from tests.services import HOW_TO_RUN_SERVICES, require


@pytest.mark.django_db
def test_health_and_readiness(client, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    # A broker that does not answer makes the process not ready, and says which.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    down = client.get("/readyz")
    assert down.status_code == 503 and down["Retry-After"] == "5"
    assert down.json()["checks"]["broker"].startswith("broker unavailable")


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_answers_503_and_heals_by_itself(stimulus_set):
    require(
        connection.vendor == "postgresql",
        "PostgreSQL (an outage cannot be staged on the in-memory test database)",
        HOW_TO_RUN_SERVICES,
    )
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=3)
    annotator = _enrolled_client(study)
    page = Client(raise_request_exception=False)
    # As a real server: an exception met outside a view goes to the 500 handler.
    annotator.raise_request_exception = False
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there: the database is "down"
    try:
        api = _next(annotator, study)
        entry = page.get(reverse("collection:entry", args=[study.slug]))
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert "try again" in api.json()["detail"]
    assert entry.status_code == 503 and "reloads by itself" in entry.content.decode()
    # The next requests reconnect: no restart needed.
    pair = _next(annotator, study).json()["pair"]
    assert _label(annotator, study, _body(pair["assignment_id"])).status_code == 201


@pytest.mark.django_db
def test_sessions_are_kept_in_the_database_not_in_redis(stimulus_set):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    from django.contrib.sessions.models import Session

    study = study_make(stimulus_set=stimulus_set)
    _enrolled_client(study)
    assert Session.objects.exists()


def test_request_ids_are_echoed_or_made_and_reach_every_log_line():
    seen: list[str] = []
    middleware = RequestIdMiddleware(lambda request: _log_and_answer(seen))
    factory = RequestFactory()
    given = middleware(factory.get("/", HTTP_X_REQUEST_ID="trace-42.a"))
    assert given["X-Request-ID"] == "trace-42.a" and seen == ["trace-42.a"]
    forged = middleware(factory.get("/", HTTP_X_REQUEST_ID="<script>" * 20))
    assert forged["X-Request-ID"] != "<script>" * 20 and len(forged["X-Request-ID"]) == 32
    assert REQUEST_ID.get() == "-"  # nothing leaks into the next request


def _log_and_answer(seen: list[str]):
    from django.http import HttpResponse

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "inside", None, None)
    RequestIdFilter().filter(record)
    seen.append(record.request_id)
    return HttpResponse("ok")


def test_a_task_sent_during_a_request_carries_its_id_in_the_message(tmp_path, settings):
    if settings.REDIS_URL:
        pytest.skip("reads the embedded broker's message files; the SQLite run covers it")
    token = REQUEST_ID.set("trace-task-7")
    try:
        current_app.send_task("counterpoint.probe", args=[1], queue="request-id-probe")
    finally:
        REQUEST_ID.reset(token)
    folder = settings.BROKER_DIR
    messages = sorted(folder.glob("*request-id-probe*"), key=lambda p: p.stat().st_mtime)
    assert messages, f"no message file in {folder}"
    message = json.loads(messages[-1].read_text())
    messages[-1].unlink()
    assert message["headers"]["request_id"] == "trace-task-7"


@pytest.mark.django_db
def test_metrics_are_served_to_allowed_clients_only(client, settings, stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=3)
    annotator = _enrolled_client(study)
    pair = _next(annotator, study).json()["pair"]
    assert _label(annotator, study, _body(pair["assignment_id"])).status_code == 201
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'counterpoint_request_seconds_count{route="collection_api:label",status="2xx"}' in body
    assert f'counterpoint_study_labels{{study="{study.slug}"}} 1.0' in body
    assert f'counterpoint_refresh_lag_labels{{study="{study.slug}"}}' in body
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    settings.METRICS_TOKEN = "s3cret-token"
    allowed = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token"
    )
    assert allowed.status_code == 200


@pytest.mark.django_db
def test_with_the_cache_down_annotators_enter_consent_and_label(settings, stimulus_set):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: Redis is "down"
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    settings.ENTRY_RATE_PER_MINUTE, settings.LABEL_RATE = 1, "1/min"  # limits not enforced
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2)
    annotators = [_enrolled_client(study) for _ in range(2)]
    for annotator in annotators:
        for _ in range(2):
            pair = _next(annotator, study).json()["pair"]
            assert _label(annotator, study, _body(pair["assignment_id"])).status_code == 201
    from collection.models import Label

    assert Label.objects.filter(study=study).count() == 4
