"""LLM rewrites through any OpenAI-compatible chat-completions endpoint.

For interventions no rule does well, a model rewrites the response under an instruction
per attribute and direction; the output then goes through the same manipulation check
as a rule transform's. Settings (all read with defaults, so nothing is needed until an
intervention uses the LLM backend):

    LLM_BASE_URL             e.g. "https://api.openai.com/v1" or "http://127.0.0.1:8000/v1"
    LLM_MODEL                model name sent in every request
    LLM_API_KEY              bearer token; blank sends none (local servers)
    LLM_TIMEOUT              seconds per request (30)
    LLM_MAX_RETRIES          retries after a timeout, connection error, 429 or 5xx (3)
    LLM_BACKOFF              first retry delay in seconds, doubled each time (1.0)
    LLM_REQUESTS_PER_SECOND  client-side rate limit (2.0)
"""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from django.conf import settings

TEMPLATE_VERSION = "2"
# A minimal edit, as a reviewer would sign: the same rules the meaning check enforces
# (interventions.checks), so a model that follows them produces pairs that pass.
SYSTEM_PROMPT = (
    "You make a MINIMAL edit to an assistant's answer: change only the one attribute you "
    "are asked to change, and copy everything else verbatim, word for word. Do not add, "
    "remove or reword facts, claims, examples or caveats. Keep exactly as they are: code "
    "blocks and inline code, tables, quotations, numbers, dates and units, names, URLs, "
    "negations (not, never, no), modal verbs (can, may, must, should, might), and "
    "restrictive words (only, just, all, every, some). Keep the markdown structure "
    "(headings, lists, bold) unless the attribute is formatting. Reply with the edited "
    "answer only: no preamble, no comment, no surrounding quotes or code fence."
)
TEMPLATES = {
    ("length", "shorter"): "Make the answer about 30% shorter by removing only redundancy: "
    "restatements, filler and wordy phrasing. Remove no fact, example, number or caveat.",
    ("length", "longer"): "Make the answer about 30% longer only by restating what it "
    "already says in other words (for example a one-sentence summary of a paragraph). Add "
    "no new fact, example or advice.",
    ("markdown", "add"): "Format the answer as structured markdown (bullet lists for "
    "enumerations, bold key terms, a header where a section starts), keeping every word.",
    ("markdown", "remove"): "Rewrite the answer as plain prose paragraphs without headers, "
    "lists or bold, keeping every word.",
    ("hedging", "more"): "Add a few uncertainty qualifiers before complete statements (for "
    "example 'In most cases,' or 'I believe') and one short closing disclaimer. Change no "
    "statement itself.",
    ("hedging", "less"): "Remove uncertainty qualifiers and disclaimers so the answer sounds "
    "confident. Keep 'might not' and every other modal before a negation.",
    ("sycophancy", "more"): "Add one sentence of flattery of the user or their question at "
    "the start and one at the end. Change nothing in between.",
    ("sycophancy", "less"): "Remove any sentence or phrase that flatters the user or the "
    "question. Change nothing else.",
    ("politeness", "more"): "Add one courteous opening acknowledgement and one closing offer "
    "of further help, without flattering the user. Change nothing in between.",
    ("politeness", "less"): "Remove courtesy phrases such as 'I hope this helps' or "
    "'please'. Change nothing else.",
    ("factual_error", "inject"): "Change exactly one number, date or unit so that it becomes "
    "wrong, and change nothing else.",
}


class LLMError(Exception):
    """The endpoint could not produce a rewrite; the message says what to check."""


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 30.0
    max_retries: int = 3
    backoff: float = 1.0
    requests_per_second: float = 2.0

    @classmethod
    def from_settings(cls, overrides: Mapping[str, object] | None = None) -> "LLMConfig":
        """The settings' endpoint, or an intervention's own: ``overrides`` is its
        ``parameters['llm']`` with any of base_url, model, api_key_env (the name of an
        environment variable holding the key: a key itself is never stored in the
        database, which exports and the admin show) and timeout."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - {"base_url", "model", "api_key_env", "timeout"}
        if unknown:
            raise LLMError(
                f"unknown LLM parameter(s) {', '.join(sorted(unknown))}; the intervention's "
                "parameters['llm'] takes base_url, model, api_key_env and timeout"
            )
        api_key = str(getattr(settings, "LLM_API_KEY", ""))
        if overrides.get("api_key_env"):
            name = str(overrides["api_key_env"])
            if name not in os.environ:
                raise LLMError(
                    f"the intervention reads its API key from the environment variable "
                    f"{name}, which is not set in the worker's environment"
                )
            api_key = os.environ[name]
        return cls(
            base_url=str(overrides.get("base_url") or getattr(settings, "LLM_BASE_URL", "")),
            model=str(overrides.get("model") or getattr(settings, "LLM_MODEL", "")),
            api_key=api_key,
            timeout=float(
                overrides.get("timeout") or getattr(settings, "LLM_TIMEOUT", 30.0)  # type: ignore[arg-type]
            ),
            max_retries=int(getattr(settings, "LLM_MAX_RETRIES", 3)),
            backoff=float(getattr(settings, "LLM_BACKOFF", 1.0)),
            requests_per_second=float(getattr(settings, "LLM_REQUESTS_PER_SECOND", 2.0)),
        )


def instruction_for(*, attribute: str, direction: str, override: str = "") -> str:
    if override.strip():
        return override
    try:
        return TEMPLATES[(attribute, direction)]
    except KeyError:
        raise LLMError(
            f"no LLM template for attribute {attribute!r} and direction {direction!r}; "
            "write one in the intervention's 'llm instruction' field"
        ) from None


class ChatClient:
    """A small synchronous client: retries with exponential backoff and a minimum
    interval between requests, so one worker never exceeds the configured rate."""

    def __init__(self, config: LLMConfig, *, transport: httpx.BaseTransport | None = None):
        if not config.base_url or not config.model:
            raise LLMError(
                "the LLM backend needs LLM_BASE_URL and LLM_MODEL in settings "
                "(an OpenAI-compatible endpoint, e.g. https://api.openai.com/v1)"
            )
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=config.timeout,
            transport=transport,
        )
        self._next_request = 0.0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ChatClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait_for_slot(self) -> None:
        now = time.monotonic()
        if now < self._next_request:
            time.sleep(self._next_request - now)
        self._next_request = max(now, self._next_request) + 1.0 / self.config.requests_per_second

    def rewrite(self, *, text: str, instruction: str) -> str:
        payload = {
            "model": self.config.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"{instruction}\n\nAnswer to rewrite:\n\n{text}"},
            ],
        }
        where = f"{self.config.base_url.rstrip('/')}/chat/completions"
        last = ""
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                time.sleep(self.config.backoff * 2 ** (attempt - 1))
            self._wait_for_slot()
            try:
                response = self._http.post("chat/completions", json=payload)
            except httpx.TransportError as exc:  # includes timeouts and refused connections
                last = f"could not reach {where}: {exc.__class__.__name__}: {exc}"
                continue
            if response.status_code == 429 or response.status_code >= 500:
                last = f"{where} answered HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:
                raise LLMError(
                    f"{where} refused the request with HTTP {response.status_code}: "
                    f"{response.text[:200]}; check LLM_API_KEY and LLM_MODEL"
                )
            return _content(response, where)
        raise LLMError(f"{last} (gave up after {self.config.max_retries + 1} attempts)")


def _content(response: httpx.Response, where: str) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMError(
            f"{where} did not answer in the chat-completions format (no "
            f"choices[0].message.content): {response.text[:200]}"
        ) from None
    if not isinstance(content, str) or not content.strip():
        raise LLMError(f"{where} returned an empty rewrite")
    return content.strip()
