"""The LLM rewrite backend against a local server that speaks the chat-completions
protocol; no test reaches the internet."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from interventions.catalogue import SPECS
from interventions.generation import GenerationFailed
from interventions.llm import ChatClient, LLMConfig, LLMError
from interventions.models import Intervention, Response, Stimulus, StimulusSet
from interventions.services import prompts_import, stimulus_set_generate
from tests.factories import demo_lines


class FakeEndpoint:
    """Answers POST /v1/chat/completions. ``script`` is a list of behaviours used in
    order ("ok", "500", "429", "401", "garbage", "empty"); after it runs out, ``then``."""

    def __init__(self, script=(), then="ok"):
        self.script, self.then, self.requests = list(script), then, []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                endpoint.requests.append((self.path, dict(self.headers), body))
                mode = endpoint.script.pop(0) if endpoint.script else endpoint.then
                if mode in ("500", "429", "401"):
                    return self._send(int(mode), {"error": {"message": f"fake {mode}"}})
                if mode == "garbage":
                    return self._send(200, {"unexpected": True})
                text = body["messages"][-1]["content"].split("Answer to rewrite:\n\n", 1)[1]
                rewrite = "" if mode == "empty" else endpoint.rewrite(text)
                self._send(
                    200, {"choices": [{"message": {"role": "assistant", "content": rewrite}}]}
                )

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def rewrite(text: str) -> str:
        # What a model asked to hedge might do: qualify the opening, add a disclaimer.
        return "I believe " + text[0].lower() + text[1:] + "\n\nI may be wrong about this."

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint_factory():
    made = []

    def make(**kwargs):
        made.append(FakeEndpoint(**kwargs))
        return made[-1]

    yield make
    for endpoint in made:
        endpoint.close()


def _llm_settings(url: str):
    return override_settings(
        LLM_BASE_URL=url,
        LLM_MODEL="fake-model",
        LLM_API_KEY="sk-test",
        LLM_BACKOFF=0.01,
        LLM_MAX_RETRIES=2,
        LLM_REQUESTS_PER_SECOND=1000,
        LLM_TIMEOUT=5,
    )


def _llm_set(prompts: int = 3, lines: list[str] | None = None) -> StimulusSet:
    spec = SPECS["hedging-more"]
    intervention = Intervention.objects.create(
        name="hedging-more-llm",
        attribute=spec.attribute,
        transform=spec.transform,
        parameters=spec.parameters,
        check_measure=spec.check_measure,
        check_threshold=spec.check_threshold,
        tolerances=spec.tolerances,
        backend=Intervention.Backend.LLM,
    )
    prompts_import(lines=demo_lines(prompts) if lines is None else lines, source="llm-src")
    stimulus_set = StimulusSet.objects.create(name="llm", response_source="llm-src", seed=1)
    stimulus_set.interventions.set([intervention])
    return stimulus_set


@pytest.mark.django_db
def test_llm_rewrites_are_checked_like_rule_output(endpoint_factory):
    endpoint = endpoint_factory(script=["500"])  # one retry after a server error
    stimulus_set = _llm_set()
    bases = Response.objects.filter(prompt__source="llm-src").count()
    with _llm_settings(endpoint.url):
        assert stimulus_set_generate(stimulus_set=stimulus_set) == bases
    assert len(endpoint.requests) == bases + 1
    path, headers, body = endpoint.requests[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer sk-test"
    assert (
        body["model"] == "fake-model" and "uncertainty qualifiers" in body["messages"][1]["content"]
    )
    outcomes = set()
    for stimulus in Stimulus.objects.filter(stimulus_set=stimulus_set):
        assert stimulus.treated.generator == "llm:hedging@fake-model"
        assert stimulus.treated.text == FakeEndpoint.rewrite(stimulus.control.text)
        assert stimulus.measures_treated["hedges"] > stimulus.measures_control["hedges"]
        # The fake's naive prefix breaks an opening header; the check must catch that.
        if stimulus.control.text.startswith("#"):
            assert stimulus.check_reason == "headers changed by 1, tolerance is 0"
        else:
            assert stimulus.check_status == Stimulus.CheckStatus.PASSED, stimulus.check_reason
        outcomes.add(stimulus.check_status)
    assert outcomes == {Stimulus.CheckStatus.PASSED, Stimulus.CheckStatus.REJECTED}
    with _llm_settings(endpoint.url):
        assert stimulus_set_generate(stimulus_set=stimulus_set) == 0
    assert len(endpoint.requests) == bases + 1


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("script", "then", "message"),
    [
        (["ok", "ok"], "500", "answered HTTP 500"),
        ([], "429", "gave up after 3 attempts"),
        ([], "401", "refused the request with HTTP 401: .*check LLM_API_KEY"),
        ([], "garbage", "did not answer in the chat-completions format"),
        ([], "empty", "returned an empty rewrite"),
        (None, None, "could not reach http://127.0.0.1:"),
    ],
)
def test_failing_endpoint_is_named_and_leaves_nothing_behind(
    endpoint_factory, script, then, message
):
    url = _closed_port_url() if script is None else endpoint_factory(script=script, then=then).url
    stimulus_set = _llm_set()
    responses = Response.objects.count()
    with _llm_settings(url), pytest.raises(GenerationFailed, match=message):
        stimulus_set_generate(stimulus_set=stimulus_set)
    stimulus_set.refresh_from_db()
    assert stimulus_set.generation_status == StimulusSet.GenerationStatus.FAILED
    assert "nothing was written" in stimulus_set.generation_error
    assert not stimulus_set.stimuli.exists() and Response.objects.count() == responses


@pytest.mark.django_db
def test_missing_settings_say_what_to_set():
    stimulus_set = _llm_set(prompts=1)
    missing = override_settings(LLM_BASE_URL="", LLM_MODEL="")
    with missing, pytest.raises(GenerationFailed, match="needs LLM_BASE_URL and LLM_MODEL"):
        stimulus_set_generate(stimulus_set=stimulus_set)


def test_client_retries_then_succeeds_without_django(endpoint_factory):
    endpoint = endpoint_factory(script=["429", "500"])
    config = LLMConfig(base_url=endpoint.url, model="m", backoff=0.01, requests_per_second=1000)
    with ChatClient(config) as client:
        assert client.rewrite(text="Paris is in France.", instruction="Hedge it.") == (
            FakeEndpoint.rewrite("Paris is in France.").strip()
        )
    assert len(endpoint.requests) == 3
    assert "Authorization" not in endpoint.requests[0][1]  # no key configured, none sent
    with pytest.raises(LLMError, match="needs LLM_BASE_URL"):
        ChatClient(LLMConfig(base_url="", model="m"))


# Canned rewrites of one answer: a minimal edit (qualifiers added, all else verbatim) and
# rewrites that also change what the answer says (a negation added, a number replaced).
ANSWER = (
    "The old bridge over the river is 120 metres long and was finished in 1890. It does "
    "not open for ships, so tall boats have to wait for the tide before they pass under "
    "it. The town repaints it every ten years, and the work takes about two months."
)
REST = ANSWER.split(". ", 1)[1]
MINIMAL = (
    "I believe the old bridge over the river is 120 metres long and was finished in 1890. "
    f"{REST}\n\nI may be wrong about this."
)
CHANGED = MINIMAL.replace("120", "150")


class CannedEndpoint(FakeEndpoint):
    """Returns, for each answer it is sent, the canned rewrite keyed by the answer."""

    canned: dict[str, str] = {}

    @classmethod
    def rewrite(cls, text: str) -> str:
        return cls.canned[text]


def _canned_set(answers: dict[str, str], parameters: dict | None = None) -> StimulusSet:
    rows = [
        {"prompt_id": f"p{i}", "prompt": f"Question {i}?", "responses": {"m": text}}
        for i, text in enumerate(answers)
    ]
    stimulus_set = _llm_set(lines=[json.dumps(r) for r in rows])
    intervention = stimulus_set.interventions.get()
    if parameters:
        intervention.parameters = {**intervention.parameters, **parameters}
        intervention.save()
    return stimulus_set


@pytest.mark.django_db
def test_a_minimal_rewrite_passes_and_one_that_changes_the_meaning_is_rejected_with_why(
    endpoint_factory,
):
    other = ANSWER.replace("The old bridge", "The new bridge")
    CannedEndpoint.canned = {
        ANSWER: MINIMAL,
        other: MINIMAL.replace("the old bridge", "the new bridge")
        .replace("the town repaints it", "the town never repaints it")
        .replace("The town repaints it", "The town never repaints it"),
    }
    endpoint = CannedEndpoint()
    try:
        stimulus_set = _canned_set({ANSWER: "", other: ""})
        with _llm_settings(endpoint.url):
            stimulus_set_generate(stimulus_set=stimulus_set)
        # The prompt asks for a minimal edit and names what must be kept.
        system, user = endpoint.requests[0][2]["messages"]
        assert "MINIMAL edit" in system["content"] and "numbers" in system["content"]
        assert "negations" in system["content"] and "Change no statement" in user["content"]
        by_control = {s.control.text: s for s in stimulus_set.stimuli.select_related("control")}
        assert by_control[ANSWER].check_status == "passed", by_control[ANSWER].check_reason
        rejected = by_control[other]
        assert rejected.check_status == "rejected"
        assert "meaning: negation added ('never')" in rejected.check_reason
    finally:
        endpoint.close()
    # The minimal rewrite with one number changed: rejected, saying which number.
    CannedEndpoint.canned[ANSWER] = CHANGED
    endpoint = CannedEndpoint()
    try:
        Stimulus.objects.all().delete()
        Response.objects.filter(origin="transformed").delete()
        with _llm_settings(endpoint.url):
            stimulus_set_generate(stimulus_set=stimulus_set)
    finally:
        endpoint.close()
    changed = Stimulus.objects.get(control__text=ANSWER)
    assert changed.check_status == "rejected"
    assert changed.check_reason == "meaning: number replaced ('120' -> '150')"


@pytest.mark.django_db
def test_an_intervention_can_name_its_own_endpoint_and_key(endpoint_factory, monkeypatch):
    CannedEndpoint.canned = {ANSWER: MINIMAL}
    endpoint = CannedEndpoint()
    monkeypatch.setenv("COUNTERPOINT_TEST_LLM_KEY", "sk-own")
    try:
        stimulus_set = _canned_set(
            {ANSWER: ""},
            {"llm": {"base_url": endpoint.url, "model": "own-model",
                     "api_key_env": "COUNTERPOINT_TEST_LLM_KEY"}},
        )  # fmt: skip
        # The settings point nowhere: only the intervention's own endpoint can answer.
        with _llm_settings(_closed_port_url()):
            assert stimulus_set_generate(stimulus_set=stimulus_set) == 1
    finally:
        endpoint.close()
    (path, headers, body) = endpoint.requests[0]
    assert headers["Authorization"] == "Bearer sk-own" and body["model"] == "own-model"
    stimulus = stimulus_set.stimuli.get()
    assert stimulus.treated.generator == "llm:hedging@own-model"
    assert stimulus.check_status == "passed", stimulus.check_reason


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("llm", "message"),
    [
        ({"api_key_env": "COUNTERPOINT_UNSET_VARIABLE"}, "COUNTERPOINT_UNSET_VARIABLE, which "),
        ({"api_key": "sk-in-the-database"}, "unknown LLM parameter.*api_key_env"),
    ],
)
def test_a_bad_endpoint_parameter_says_what_to_fix_and_creates_nothing(llm, message):
    stimulus_set = _canned_set({ANSWER: ""}, {"llm": llm})
    responses = Response.objects.count()
    with _llm_settings("http://127.0.0.1:9/v1"), pytest.raises(GenerationFailed, match=message):
        stimulus_set_generate(stimulus_set=stimulus_set)
    assert not stimulus_set.stimuli.exists() and Response.objects.count() == responses


class SlowEndpoint(FakeEndpoint):
    @staticmethod
    def rewrite(text: str) -> str:
        time.sleep(1.5)
        return MINIMAL


@pytest.mark.django_db
def test_a_timeout_is_named_and_creates_nothing():
    endpoint = SlowEndpoint()
    try:
        stimulus_set = _canned_set({ANSWER: ""})
        responses = Response.objects.count()
        slow = override_settings(
            LLM_BASE_URL=endpoint.url, LLM_MODEL="m", LLM_TIMEOUT=0.3, LLM_MAX_RETRIES=1,
            LLM_BACKOFF=0.01, LLM_REQUESTS_PER_SECOND=1000,
        )  # fmt: skip
        with slow, pytest.raises(GenerationFailed, match="ReadTimeout.*gave up after 2 attempts"):
            stimulus_set_generate(stimulus_set=stimulus_set)
    finally:
        endpoint.close()
    assert not stimulus_set.stimuli.exists() and Response.objects.count() == responses
