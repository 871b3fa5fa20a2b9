"""Schemathesis over the whole OpenAPI schema, as an enrolled annotator of a study and,
on the researcher API, with its owner's token: generated requests (valid and not) never
get a 5xx, and every response matches the schema (status codes and content types
documented, bodies and headers of the documented shape)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from collection.services.api_tokens import api_token_create
from config.wsgi import application
from tests.collection.test_api import _enrolled_client
from tests.factories import researcher_make, stimulus_set_make, study_make

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture
def annotator(db):
    # Requests go straight into the WSGI app, in this thread. Django closes connections at
    # every request's start and end (CONN_MAX_AGE), which would close the test's own
    # connection mid-transaction on PostgreSQL; its test client turns that off the same way.
    # After the enrollment: Django's test client reconnects them after each of its requests.
    enrolled = _annotator()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield enrolled
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _annotator():
    owner = researcher_make("fuzz-owner")
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=4), labels_per_annotator=50, owner=owner
    )
    client = _enrolled_client(study)
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    _, token = api_token_create(user=owner, name="fuzz")
    headers = {"X-CSRFToken": cookies["csrftoken"], "Authorization": f"Bearer {token}"}
    return study, cookies, headers


@schema.parametrize()
@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_matches_its_schema_and_never_fails(case, annotator):
    study, cookies, headers = annotator
    if "slug" in (case.path_parameters or {}):
        case.path_parameters["slug"] = study.slug
    # The enrollment cookie and the token are always sent, so checks about requests
    # without credentials do not apply; tests/collection/test_api.py and
    # test_researcher_api.py cover those (401).
    case.call_and_validate(cookies=cookies, headers=headers, checks=CHECKS)


def _set_owned(study):
    """The study's stimulus set, made its owner's (only the owner reviews its pairs)."""
    stimulus_set = study.stimulus_sets.get()
    stimulus_set.owner = study.owners.get()
    stimulus_set.save(update_fields=["owner"])
    return stimulus_set


@pytest.mark.django_db
def test_a_body_of_a_media_type_not_read_is_refused_with_the_documented_415(annotator):
    # The fuzzer found it by chance (a multipart body that reached the view without its
    # Content-Type); here every researcher API operation that reads a body is sent one of a
    # type it does not read. The annotator API reads any body as JSON (its 400).
    study, cookies, headers = annotator
    stimulus_set = _set_owned(study)
    client = Client(HTTP_X_CSRFTOKEN=headers["X-CSRFToken"])
    for name, value in cookies.items():
        client.cookies[name] = value
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    reading = [
        (path, method, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "requestBody" in operation and path.startswith("/api/v1/")
    ]
    assert len(reading) >= 3
    for path, method, operation in reading:
        url = path.replace("{slug}", study.slug).replace("{id}", str(stimulus_set.pk))
        response = getattr(client, method)(
            url,
            data=b"label=a",
            content_type="text/plain",
            HTTP_AUTHORIZATION=headers["Authorization"],
        )
        assert response.status_code == 415, (path, response.content)
        assert "text/plain" in response.json()["detail"]
        assert "415" in operation["responses"], path


@pytest.mark.django_db
def test_a_query_parameter_out_of_its_values_is_refused_with_the_documented_400(annotator):
    # Found by the fuzzer: ?review_status=<not a status> got an undocumented 400.
    study, _, headers = annotator
    stimulus_set = _set_owned(study)
    client = Client(HTTP_AUTHORIZATION=headers["Authorization"])
    path = "/api/v1/stimulus-sets/{id}/stimuli/"
    response = client.get(path.format(id=stimulus_set.pk), {"review_status": "T22vIqhx"})
    assert response.status_code == 400
    assert "pending" in response.json()["review_status"]
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "400" in schema["paths"][path]["get"]["responses"]


@pytest.mark.django_db
def test_an_accept_header_without_json_is_refused_with_the_documented_406(annotator):
    # The export's zip is served whatever the header says (tests/collection/
    # test_researcher_api.py); every other researcher API answer is JSON.
    study, _, headers = annotator
    stimulus_set = _set_owned(study)
    client = Client(HTTP_AUTHORIZATION=headers["Authorization"])
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    answering = [
        (path, method, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if path.startswith("/api/v1/") and not path.endswith("/download/")
    ]
    assert len(answering) >= 10
    for path, method, operation in answering:
        url = path.replace("{slug}", study.slug).replace("{id}", str(stimulus_set.pk))
        response = getattr(client, method)(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 406, (path, response.content)
        assert "Accept" in response.json()["detail"]
        assert "406" in operation["responses"], path
    download = paths["/api/v1/studies/{slug}/exports/{id}/download/"]["get"]["responses"]
    assert "406" not in download
