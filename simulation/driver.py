"""Simulated annotators against a running server, through the browsers' own path.

Each annotator is one thread with its own HTTP client (its own cookies): the Prolific
entry link, *Start*, consent, the questionnaire (answers from the annotator's drawn
covariates), then the JSON API's next/labels loop until the quota, a lapse into
abandoning (*Stop and return*) or no work. Choices come from the population model on the
attributes of the HTML the API sent (``simulation.perception``); nothing reads which side
is treated. Every draw of annotator i comes from the generator seeded (seed, i), so a
run is reproducible up to the server's own interleaving of concurrent annotators.
"""

import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from simulation.perception import attributes_from_html
from simulation.population import (
    LEFT,
    TIE,
    Annotators,
    Population,
    annotators_draw,
    choices_draw,
    perceived_difference,
)

CHOICE_NAMES = {LEFT: "left", TIE: "tie"}
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class DriverError(RuntimeError):
    """The server answered an annotator in a way a browser could not go on from."""


@dataclass
class Outcome:
    """What happened to one simulated annotator."""

    index: int
    labels: int = 0
    ended: str = ""  # "completed", "abandoned", "no_work" or "error: ..."
    retries: int = 0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def labels(self) -> int:
        return sum(o.labels for o in self.outcomes)

    def counts(self) -> Counter[str]:
        return Counter(o.ended.split(":")[0] for o in self.outcomes)


def questionnaire_answers(
    questions: list[dict], drawn: dict[str, Any], rng: np.random.Generator
) -> dict[str, str]:
    """Form data for the study's questionnaire: a question whose key is a recorded
    covariate of the population gets the annotator's value; any other gets a valid answer
    drawn uniformly (a choice) or the middle of its range (a number)."""
    data: dict[str, str] = {}
    for q in questions:
        key, value = q["key"], drawn.get(q["key"])
        if value is not None:
            data[key] = str(value)
        elif q["type"] == "choice":
            data[key] = str(q["choices"][int(rng.integers(len(q["choices"])))])
        elif q["type"] == "number":
            data[key] = str((q.get("min", 0) + q.get("max", q.get("min", 0))) / 2)
        else:
            data[key] = "simulated"
    return data


def questionnaire_check(questions: list[dict], population: Population) -> None:
    """Refuse a population whose covariate levels the questionnaire cannot record."""
    for q in questions:
        cov = next((c for c in population.covariates if c.name == q["key"]), None)
        if cov is None or not cov.recorded:
            continue
        if q["type"] == "choice" and cov.kind == "choice":
            missing = [v for v in cov.levels if v not in q["choices"]]
            if missing:
                raise ValueError(
                    f"covariate {cov.name!r}: level(s) {', '.join(missing)} are not answers "
                    f"of the question (it offers {', '.join(q['choices'])}); rename them"
                )
        elif q["type"] != cov.kind and q["type"] != "text":
            raise ValueError(
                f"covariate {cov.name!r} is a {cov.kind} but the question asks for a {q['type']}"
            )


class SimulatedAnnotator:
    def __init__(
        self,
        *,
        index: int,
        base_url: str,
        slug: str,
        population: Population,
        drawn: Annotators,
        questions: list[dict],
        seed: int,
        run_key: str,
        pace: float,
    ):
        self.i = index
        self.base = base_url.rstrip("/")
        self.slug = slug
        self.population = population
        self.drawn = drawn
        self.questions = questions
        self.rng = np.random.default_rng([seed, index])
        self.run_key = run_key
        self.pace = pace
        self.outcome = Outcome(index)

    # -- HTTP ----------------------------------------------------------------------

    def _send(self, client: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
        """A request, retried after a 429 (throttled) or a 503 (database busy or briefly
        down: nothing was changed) as a person would try again. A 429 waits its whole
        Retry-After; a 503 at most a second or two, jittered so threads do not collide
        again. Retrying a label is safe: it is idempotent on its submission id."""
        for _ in range(30):
            response = client.request(method, url, **kw)
            if response.status_code not in (429, 503):
                return response
            self.outcome.retries += 1
            wait = float(response.headers.get("Retry-After", "1"))
            if response.status_code == 503:
                wait = min(wait, 2.0) * random.uniform(0.1, 1.0)
            time.sleep(wait * random.uniform(1, 1.5))
        raise DriverError(f"{method} {url}: still {response.status_code} after 30 tries")

    def _csrf(self, client: httpx.Client, page: httpx.Response | None = None) -> str:
        if page is not None:
            found = _CSRF_INPUT.search(page.text)
            if found:
                return found.group(1)
        token = client.cookies.get("csrftoken")
        if not token:
            raise DriverError("the server set no CSRF cookie")
        return token

    def _form(self, client: httpx.Client, page: httpx.Response, data: dict) -> httpx.Response:
        url = str(page.url)
        body = {"csrfmiddlewaretoken": self._csrf(client, page), **data}
        response = self._send(client, "POST", url, data=body, headers={"Referer": url})
        if response.status_code >= 400:
            raise DriverError(f"POST {url} answered {response.status_code}")
        return response

    def _api(self, client: httpx.Client, path: str, body: dict | None = None) -> dict:
        url = f"{self.base}/api/studies/{self.slug}/{path}/"
        headers = {"X-CSRFToken": self._csrf(client), "Referer": url}
        response = self._send(client, "POST", url, json=body, headers=headers)
        if response.status_code not in (200, 201):
            detail = response.text[:200]
            raise DriverError(f"POST {url} answered {response.status_code}: {detail}")
        return response.json()

    # -- the annotator ---------------------------------------------------------------

    def run(self) -> Outcome:
        try:
            with httpx.Client(follow_redirects=True, timeout=60) as client:
                self._enter(client)
                self._label(client)
        except (DriverError, httpx.HTTPError) as exc:
            self.outcome.ended = f"error: {exc}"
        return self.outcome

    def _enter(self, client: httpx.Client) -> None:
        pid = f"sim-{self.run_key}-{self.i}"
        params = {"PROLIFIC_PID": pid, "STUDY_ID": "simulation", "SESSION_ID": f"{pid}-s"}
        page = self._send(client, "GET", f"{self.base}/s/{self.slug}/", params=params)
        if page.status_code != 200:
            raise DriverError(f"the entry link answered {page.status_code}")
        page = self._form(client, page, {})  # Start
        if page.url.path.endswith("/consent/"):
            page = self._form(client, page, {"agree": "on"})
        if page.url.path.endswith("/about-you/"):
            recorded = self.drawn.answers(self.i, recorded_only=self.population)
            answers = questionnaire_answers(self.questions, recorded, self.rng)
            page = self._form(client, page, answers)
            if page.url.path.endswith("/about-you/"):
                raise DriverError("the questionnaire refused the answers")

    def _label(self, client: httpx.Client) -> None:
        behaviour = self.population.behaviour
        while True:
            nxt = self._api(client, "next")
            if nxt["status"] != "pair":
                self.outcome.ended = "completed" if nxt["status"] == "done" else "no_work"
                return
            pair = nxt["pair"]
            left = attributes_from_html(pair["left_html"])
            right = attributes_from_html(pair["right_html"])
            d = perceived_difference(self.population, left, right)[None, :]
            code = choices_draw(self.population, self.drawn, np.array([self.i]), d, self.rng)[0]
            seconds = behaviour.seconds_median * np.exp(
                behaviour.seconds_sigma * self.rng.standard_normal()
            )
            if self.pace:
                time.sleep(seconds * self.pace)
            body = {
                "assignment_id": pair["assignment_id"],
                "submission_id": str(uuid.UUID(bytes=self.rng.bytes(16), version=4)),
                "choice": CHOICE_NAMES.get(int(code), "right"),
                "strength": int(self.rng.integers(1, 4)),
                "time_on_task_ms": int(seconds * 1000),
            }
            result = self._api(client, "labels", body)
            self.outcome.labels += 1
            if result["completed"]:
                self.outcome.ended = "completed"
                return
            if self.rng.random() < behaviour.abandon_rate:
                self._stop(client)
                return

    def _stop(self, client: httpx.Client) -> None:
        page = self._send(client, "GET", f"{self.base}/s/{self.slug}/stop/")
        self._form(client, page, {})
        self.outcome.ended = "abandoned"


def simulate(
    *,
    base_url: str,
    slug: str,
    population: Population,
    annotators: int,
    questions: list[dict],
    seed: int,
    run_key: str,
    concurrency: int = 8,
    pace: float = 0.0,
    progress: Callable[[Outcome], None] | None = None,
) -> Report:
    """Run ``annotators`` simulated annotators, ``concurrency`` at a time."""
    questionnaire_check(questions, population)
    drawn = annotators_draw(population, annotators, np.random.default_rng(seed))
    report = Report()

    def one(i: int) -> Outcome:
        annotator = SimulatedAnnotator(
            index=i, base_url=base_url, slug=slug, population=population, drawn=drawn,
            questions=questions, seed=seed, run_key=run_key, pace=pace,
        )  # fmt: skip
        outcome = annotator.run()
        if progress:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        report.outcomes = list(pool.map(one, range(annotators)))
    return report
