"""The researcher REST API (/api/v1/): tokens, per-study permissions, pagination,
throttling, exports, and a schema that lists every endpoint."""

import json

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from collection.models import ApiToken, Enrollment, Export, Label
from collection.services.api_tokens import api_token_create, api_token_revoke
from tests.analysis.helpers import label_study
from tests.factories import researcher_make, study_make


def _api(token: str | None) -> Client:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client(**headers)


@pytest.fixture
def world(stimulus_set):
    owner, stranger = researcher_make("api-owner"), researcher_make("api-stranger")
    study = study_make(stimulus_set=stimulus_set, owner=owner, labels_per_annotator=3)
    label_study(study, annotators=4, rng=np.random.default_rng(1))
    return {
        "study": study,
        "owner": api_token_create(user=owner, name="t")[1],
        "stranger": api_token_create(user=stranger, name="t")[1],
    }


def _study_urls(slug: str) -> list[str]:
    return [
        f"/api/v1/studies/{slug}/",
        f"/api/v1/studies/{slug}/enrollments/",
        f"/api/v1/studies/{slug}/labels/",
        f"/api/v1/studies/{slug}/exports/",
        f"/api/v1/studies/{slug}/results/",
    ]


@pytest.mark.django_db
def test_a_token_is_stored_hashed_and_wrong_missing_or_revoked_ones_get_401(world):
    token = world["owner"]
    record = ApiToken.objects.get(user__username="api-owner")
    assert token not in record.token_hash and token.startswith(record.prefix)
    assert _api(token).get("/api/v1/studies/").status_code == 200
    record.refresh_from_db()
    assert record.last_used_at is not None
    for bad in (None, "cp_not-a-token", token + "x"):
        answer = _api(bad).get("/api/v1/studies/")
        assert answer.status_code == 401, bad
        assert answer["WWW-Authenticate"] == 'Bearer realm="api"'
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/studies/").status_code == 401
    api_token_revoke(token=record)
    revoked = _api(token).get("/api/v1/studies/")
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


@pytest.mark.django_db
def test_a_researcher_reads_their_study_and_another_gets_404_everywhere(world):
    study, owner, stranger = world["study"], _api(world["owner"]), _api(world["stranger"])
    listed = owner.get("/api/v1/studies/").json()["results"]
    assert [s["slug"] for s in listed] == [study.slug]
    assert stranger.get("/api/v1/studies/").json()["results"] == []
    for url in _study_urls(study.slug):
        assert owner.get(url).status_code == 200, url
        assert stranger.get(url).status_code == 404, url
    assert (
        stranger.post(
            f"/api/v1/studies/{study.slug}/exports/",
            {"format": "trl", "file_format": "jsonl"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert not Export.objects.exists()
    # Pseudonymous: codes, never a recruiter's id.
    enrollment = owner.get(f"/api/v1/studies/{study.slug}/enrollments/").json()["results"][0]
    codes = set(Enrollment.objects.values_list("annotator__code", flat=True))
    assert enrollment["annotator"] in codes and "prolific_session_id" not in enrollment


@pytest.mark.django_db
def test_labels_page_by_cursor_without_gaps_or_repeats(world):
    study, owner = world["study"], _api(world["owner"])
    url, seen = f"/api/v1/studies/{study.slug}/labels/?page_size=5", []
    while url:
        page = owner.get(url).json()
        assert len(page["results"]) <= 5
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == list(
        Label.objects.filter(study=study).order_by("pk").values_list("pk", flat=True)
    )
    first = Label.objects.select_related("assignment__stimulus").order_by("pk").first()
    row = owner.get(f"/api/v1/studies/{study.slug}/labels/?page_size=1").json()["results"][0]
    assert (row["choice"], row["stimulus_id"], row["intervention"]) == (
        first.choice, first.assignment.stimulus_id, first.assignment.stimulus.cell
    )  # fmt: skip


@pytest.mark.django_db
def test_results_are_the_latest_estimates(world):
    from analysis.selectors import estimates_latest
    from analysis.services import study_refresh

    study = world["study"]
    study_refresh(study_id=study.pk)
    body = _api(world["owner"]).get(f"/api/v1/studies/{study.slug}/results/").json()
    expected = estimates_latest(study=study)
    assert len(body["estimates"]) == len(expected) > 0
    assert [e["point"] for e in body["estimates"]] == [e.point for e in expected]


@pytest.mark.django_db
def test_an_export_is_asked_for_built_and_downloaded_with_the_token(world, tmp_path, settings):
    from collection.exports.services import export_build

    settings.VAR_DIR = tmp_path
    study, owner = world["study"], _api(world["owner"])
    url = f"/api/v1/studies/{study.slug}/exports/"
    bad = owner.post(
        url, {"format": "nope", "file_format": "jsonl"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "format" in bad.json()
    bad_option = owner.post(
        url,
        {"format": "trl", "file_format": "jsonl", "options": {"exclude": True}},
        content_type="application/json",
    )
    assert bad_option.status_code == 400 and "unknown export option" in bad_option.json()["detail"]
    assert not Export.objects.exists()
    asked = owner.post(
        url, {"format": "trl", "file_format": "jsonl"}, content_type="application/json"
    )
    assert asked.status_code == 202 and asked.json()["download_url"] is None
    export_id = asked.json()["id"]
    export_build(export_id=export_id)
    detail = owner.get(f"{url}{export_id}/").json()
    assert detail["status"] == "done" and detail["download_url"].endswith(f"/{export_id}/download/")
    # Asked for as the schema documents it (a zip), as any client (*/*), as a browser
    # link would (text/html first) or with no Accept.
    for accept in ("application/zip", "*/*", "text/html", None):
        extra = {"HTTP_ACCEPT": accept} if accept else {}
        download = owner.get(f"{url}{export_id}/download/", **extra)
        assert download.status_code == 200, accept
        assert download["Content-Type"] == "application/zip"
        assert b"".join(download.streaming_content)[:2] == b"PK"  # a zip
    missing = owner.get(f"{url}{export_id + 1}/download/", HTTP_ACCEPT="application/zip")
    assert missing.status_code == 404 and "no finished export" in missing.json()["detail"]
    assert _api(world["stranger"]).get(f"{url}{export_id}/download/").status_code == 404


@pytest.mark.django_db
def test_too_many_requests_get_429_with_retry_after(world, monkeypatch):
    from django.core.cache import cache

    from collection.researcher_api.auth import ResearcherRateThrottle

    monkeypatch.setattr(ResearcherRateThrottle, "THROTTLE_RATES", {"researcher_api": "3/min"})
    cache.clear()  # the throttle's history of earlier tests' requests
    owner = _api(world["owner"])
    codes = [owner.get("/api/v1/studies/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert int(owner.get("/api/v1/studies/")["Retry-After"]) > 0
    # Another researcher has a budget of their own.
    assert _api(world["stranger"]).get("/api/v1/studies/").status_code == 200


def _v1_routes() -> set[str]:
    """Every /api/v1/ URL pattern, in OpenAPI's form ({slug}, {id})."""
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern) and route.startswith("api/v1/"):
                for kind in ("slug", "int"):
                    route = route.replace(f"<{kind}:", "{")
                # drf-spectacular names a primary key {id} (SCHEMA_COERCE_PATH_PK).
                routes.add("/" + route.replace(">", "}").replace("{pk}", "{id}"))

    walk(get_resolver().url_patterns, "")
    return routes


@pytest.mark.django_db
def test_the_schema_lists_every_endpoint_with_token_auth():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {p for p in schema["paths"] if p.startswith("/api/v1/")}
    assert documented == _v1_routes() and len(documented) == 12
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/studies/{slug}/exports/"]["post"]
    assert schema["paths"]["/api/v1/stimulus-sets/{id}/reviews/"]["post"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "address",
    [
        "/api/v1/stimulus-sets/not-a-number/stimuli/",
        # The id Schemathesis once drew: control characters and a newline.
        '/api/v1/stimulus-sets/"%C2%A9%7F%123%25%0A/stimuli/',
        "/api/studies/no%0Asuch/next/",
        "/api/never-was/",
    ],
)
def test_an_unknown_address_under_the_api_gets_a_json_404(world, address):
    answer = _api(world["owner"]).get(address)
    assert answer.status_code == 404 and "/api/docs/" in answer.json()["detail"]


@pytest.mark.django_db
def test_an_unknown_page_elsewhere_gets_the_html_404(client):
    answer = client.get("/s/never-was/")
    assert answer.status_code == 404 and answer["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_command_prints_a_working_token(capsys):
    researcher_make("cli-researcher")
    call_command("api_token", "cli-researcher", "--name", "script")
    token = capsys.readouterr().out.strip()
    assert _api(token).get("/api/v1/studies/").status_code == 200
    assert ApiToken.objects.get(name="script").user.username == "cli-researcher"


@pytest.mark.django_db
def test_the_admin_shows_a_new_token_once_and_revokes(client):
    owner = researcher_make("admin-tokens")
    client.force_login(owner)
    made = client.post(reverse("admin:collection_apitoken_add"), {"name": "laptop"}, follow=True)
    text = made.content.decode()
    token = text.split("shown only once): ")[1].split("<")[0].strip()
    assert _api(token).get("/api/v1/studies/").status_code == 200
    record = ApiToken.objects.get(name="laptop")
    listing = client.get(reverse("admin:collection_apitoken_changelist")).content.decode()
    assert record.prefix in listing and token not in listing
    client.post(
        reverse("admin:collection_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [record.pk]},
    )
    assert _api(token).get("/api/v1/studies/").status_code == 401
    other = researcher_make("other-tokens")
    client.force_login(other)
    assert (
        record.prefix
        not in client.get(reverse("admin:collection_apitoken_changelist")).content.decode()
    )


def _pairs_file(rows: list[dict], name: str = "pairs.jsonl"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    return SimpleUploadedFile(name, body, content_type="application/jsonl")


GOOD = [
    {"prompt_id": f"p{i}", "prompt": f"Question {i}?", "control": f"Answer {i}.",
     "treated": f"A longer answer {i}, with more words.", "intervention": "probe"}
    for i in range(3)
]  # fmt: skip


@pytest.mark.django_db
def test_pairs_are_imported_through_the_api_all_or_nothing(world):
    from interventions.models import StimulusSet

    owner, url = _api(world["owner"]), "/api/v1/stimulus-sets/import/"
    bad = [*GOOD, {"prompt_id": "x", "prompt": "Q?", "control": "", "treated": "T"}]
    refused = owner.post(
        url, {"file": _pairs_file(bad), "format": "pairs-jsonl", "stimulus_set_name": "api-set"}
    )
    body = refused.json()
    assert refused.status_code == 400 and body["skippable"] and body["valid_rows"] == 3
    assert any(e.startswith("line 4:") for e in body["errors"])
    assert not StimulusSet.objects.filter(name="api-set").exists()
    made = owner.post(
        url,
        {"file": _pairs_file(bad), "format": "pairs-jsonl", "stimulus_set_name": "api-set",
         "skip_invalid": "true"},
    )  # fmt: skip
    assert made.status_code == 201, made.json()
    result = made.json()
    assert result["stimuli"] == 3 and result["invalid_rows"][0].startswith("line 4:")
    listed = owner.get("/api/v1/stimulus-sets/").json()["results"]
    assert "api-set" in {s["name"] for s in listed}
    created = StimulusSet.objects.get(name="api-set")
    assert created.owner.username == "api-owner"
    stimuli = owner.get(f"/api/v1/stimulus-sets/{created.pk}/stimuli/").json()["results"]
    assert [s["prompt"] for s in stimuli] == [r["prompt"] for r in GOOD]
    assert (
        _api(world["stranger"]).get(f"/api/v1/stimulus-sets/{created.pk}/stimuli/").status_code
        == 404
    )
    missing = owner.post(url, {"format": "pairs-jsonl", "stimulus_set_name": "x"})
    assert missing.status_code == 400 and "file" in missing.json()
