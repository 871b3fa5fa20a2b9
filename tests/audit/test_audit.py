"""Reward-model audits through the real services and pages: the built-in text model trained
on the study's own export, uploaded scores (all or nothing, never changed), an HTTP
scoring endpoint (a local server of the test's own), and who may see or run them."""

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from audit.models import AuditResult, RewardModel, RewardScore
from audit.selectors import audits_latest, scoring_sheet, study_pairs
from audit.services import AuditError, audit_run, scores_compute, scores_import, text_model_create
from collection.exports.services import export_write
from collection.models import StudyAccess
from tests.analysis.helpers import study_with_every_figure
from tests.factories import researcher_make


@pytest.fixture
def owner(db):
    return researcher_make("audit-owner")


@pytest.fixture
def study(owner):
    # People prefer the longer answer with probability 0.7: a human effect near +0.2.
    return study_with_every_figure(owner, annotators=20, seed=3)


def _sheet(study) -> list[dict]:
    return [json.loads(line) for line in scoring_sheet(study=study)]


def _scores_model(owner, name="uploaded") -> RewardModel:
    return RewardModel.objects.create(name=name, source=RewardModel.Source.SCORES, owner=owner)


def _lines(rows) -> list[bytes]:
    return [json.dumps(r).encode() for r in rows]


@pytest.mark.django_db
def test_the_text_model_trained_on_the_study_export_is_audited_beside_people(study, tmp_path):
    out = tmp_path / "trl.zip"
    export_write(study=study, format="trl", file_format="jsonl", options={}, out=out)
    with zipfile.ZipFile(out) as bundle:
        lines = bundle.read(f"{study.slug}-trl.jsonl").splitlines()
    model = text_model_create(name="bt-text", export_lines=lines, l2=1.0)
    assert model.parameters["pairs"] == len(lines)
    rows = audit_run(reward_model=model, study=study)
    pairs = study_pairs(study=study).count()
    assert len(rows) == 1 and rows[0].pairs == pairs
    assert RewardScore.objects.filter(reward_model=model).count() == 2 * pairs
    r = rows[0]
    # Trained on labels that prefer the longer answer, the model prefers it too.
    assert r.point > 0.2
    assert r.ci_low < r.point < r.ci_high
    human = next(a for a in audits_latest(study=study)).rows[0].result
    assert human.human_point == pytest.approx(r.human_point)
    assert r.gap == pytest.approx(r.point - r.human_point)
    # A second run is a new snapshot; the first stays.
    audit_run(reward_model=model, study=study)
    assert set(AuditResult.objects.filter(reward_model=model).values_list("run", flat=True)) == {
        1,
        2,
    }
    assert RewardScore.objects.filter(reward_model=model).count() == 2 * pairs


@pytest.mark.django_db
def test_uploaded_scores_are_all_or_nothing_and_never_changed(study, owner):
    model = _scores_model(owner)
    sheet = _sheet(study)
    good = [
        {"stimulus": r["stimulus"], "side": r["side"], "score": len(r["response"])} for r in sheet
    ]
    bad_cases = [
        (
            good[:3] + [{"stimulus": good[0]["stimulus"], "side": "left", "score": 1}],
            "line 4: 'side'",
        ),
        (good[:3] + [{"stimulus": 10**9, "side": "treated", "score": 1}], "not one of this study"),
        (
            good[:2] + [{"stimulus": good[0]["stimulus"], "side": "treated", "score": "high"}],
            "finite number",
        ),
        (good[:2] + [good[0]], "scored twice"),
    ]
    for rows, message in bad_cases:
        with pytest.raises(AuditError, match=message):
            scores_import(reward_model=model, study=study, lines=_lines(rows))
        assert not RewardScore.objects.exists()
    with pytest.raises(AuditError, match="line 2: not JSON"):
        scores_import(reward_model=model, study=study, lines=[_lines(good)[0], b"{oops"])
    assert scores_import(reward_model=model, study=study, lines=_lines(good)) == len(good)
    # A replayed upload stores nothing; a changed score is refused.
    assert scores_import(reward_model=model, study=study, lines=_lines(good)) == 0
    changed = dict(good[0], score=good[0]["score"] + 1)
    with pytest.raises(AuditError, match="scores are never changed"):
        scores_import(reward_model=model, study=study, lines=_lines([changed]))
    assert RewardScore.objects.count() == len(good)
    # Scores equal to the length: the model always prefers the longer answer.
    (row,) = audit_run(reward_model=model, study=study)
    assert row.point == 0.5


@pytest.mark.django_db
def test_an_audit_without_scores_says_what_to_do(study, owner):
    with pytest.raises(AuditError, match="upload scores"):
        audit_run(reward_model=_scores_model(owner), study=study)


class _Scorer(BaseHTTPRequestHandler):
    """A reward model behind HTTP: the score is minus the length (prefers shorter)."""

    broken = False

    def do_POST(self):  # noqa: N802  (the http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.broken:
            answer = {"scores": [1.0]}
        else:
            answer = {"scores": [-len(item["response"]) for item in body["items"]]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def scorer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scorer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_an_http_endpoint_scores_the_pairs_and_a_wrong_answer_stores_nothing(study, owner, scorer):
    url = f"http://127.0.0.1:{scorer.server_address[1]}/score"
    model = RewardModel.objects.create(
        name="http", source=RewardModel.Source.HTTP, endpoint_url=url, owner=owner
    )
    _Scorer.broken = True
    try:
        with pytest.raises(AuditError, match="finite numbers in the order"):
            scores_compute(reward_model=model, study=study)
    finally:
        _Scorer.broken = False
    assert not RewardScore.objects.exists()
    (row,) = audit_run(reward_model=model, study=study)
    assert row.point == -0.5  # always the shorter answer
    assert row.gap < 0 and row.gap_ci_high < 0
    dead = RewardModel.objects.create(
        name="dead", source=RewardModel.Source.HTTP, endpoint_url="http://127.0.0.1:9/x"
    )
    with pytest.raises(AuditError, match="failed"):
        audit_run(reward_model=dead, study=study)
    assert not RewardScore.objects.filter(reward_model=dead).exists()


@pytest.mark.django_db
def test_the_page_shows_readers_the_audit_lets_editors_run_one_and_hides_it_from_others(
    client, study, owner
):
    reader, stranger = researcher_make("audit-reader"), researcher_make("audit-stranger")
    StudyAccess.objects.create(study=study, user=reader, role="read", granted_by=owner)
    model = _scores_model(owner)
    page = reverse("audit:page", args=[study.slug])
    upload = b"\n".join(
        json.dumps(
            {"stimulus": r["stimulus"], "side": r["side"], "score": len(r["response"])}
        ).encode()
        for r in _sheet(study)
    )

    client.force_login(stranger)
    for url in (page, reverse("audit:sheet", args=[study.slug])):
        assert client.get(url).status_code == 404
    client.force_login(reader)
    assert client.get(page).status_code == 200
    denied = client.post(page, {"reward_model": model.pk, "scores": io.BytesIO(upload)})
    assert denied.status_code == 403 and not RewardScore.objects.exists()

    client.force_login(owner)
    # A scores model without a file: the form says what to do.
    response = client.post(page, {"reward_model": model.pk})
    assert response.status_code == 400 and b"choose the scores file" in response.content
    bad = io.BytesIO(b'{"stimulus": 1}')
    bad.name = "bad.jsonl"
    response = client.post(page, {"reward_model": model.pk, "scores": bad})
    assert response.status_code == 400 and b"line 1" in response.content
    assert not RewardScore.objects.exists()
    good = io.BytesIO(upload)
    good.name = "scores.jsonl"
    response = client.post(page, {"reward_model": model.pk, "scores": good}, follow=True)
    assert response.status_code == 200
    assert b"The model scored the longer answer higher in 100%" in response.content

    results = client.get(reverse("analysis:results", args=[study.slug]))
    assert b"Reward-model audit" in results.content and b"uploaded" in results.content
    for fmt, start in (("svg", b"<?xml"), ("png", b"\x89PNG")):
        figure = client.get(reverse("audit:figure", args=[study.slug, model.pk, fmt]))
        assert figure.status_code == 200 and figure.content.startswith(start)
    sheet = client.get(reverse("audit:sheet", args=[study.slug]))
    lines = b"".join(sheet.streaming_content).splitlines()
    assert len(lines) == 2 * study_pairs(study=study).count()
    # Another researcher's model is not offered and cannot be used.
    theirs = _scores_model(stranger, name="theirs")
    response = client.post(page, {"reward_model": theirs.pk, "scores": io.BytesIO(upload)})
    assert response.status_code == 400
    assert not RewardScore.objects.filter(reward_model=theirs).exists()


@pytest.mark.django_db
def test_the_page_shows_each_models_newest_run_read_in_one_query(
    study, owner, django_assert_num_queries
):
    sheet = _sheet(study)
    models = []
    for name, sign in (("longer", 1), ("shorter", -1)):
        model = _scores_model(owner, name)
        rows = [
            {"stimulus": r["stimulus"], "side": r["side"], "score": sign * len(r["response"])}
            for r in sheet
        ]
        scores_import(reward_model=model, study=study, lines=_lines(rows))
        models.append(model)
    for model in (models[0], models[1], models[0]):  # the first model audited twice
        audit_run(reward_model=model, study=study)
    with django_assert_num_queries(1):
        audits = audits_latest(study=study)
    assert [(a.reward_model.pk, a.run) for a in audits] == [(models[0].pk, 2), (models[1].pk, 1)]
    for audit in audits:
        assert {r.result.run for r in audit.rows} == {audit.run}
        assert {r.result.reward_model_id for r in audit.rows} == {audit.reward_model.pk}
    assert [r.result.point for r in audits[0].rows] == [0.5]
    assert [r.result.point for r in audits[1].rows] == [-0.5]
