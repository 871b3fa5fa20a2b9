"""Annotators over HTTP, as flaky as real ones: they enter from a Prolific-style link,
consent, answer the questionnaire and label through the JSON API, retrying every failed
or unanswered submission with the same submission id, and sometimes replaying an old one.

Each keeps what the server acknowledged (a 2xx with a label id), which the audit checks
against the database: every acknowledged label stored exactly once.
"""

from __future__ import annotations

import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ANSWERS = {"age": "30-44", "expertise": "some", "english": "yes"}
RETRYABLE = {429, 500, 502, 503, 504}


@dataclass
class Tally:
    acknowledged: dict[str, int] = field(default_factory=dict)  # submission id -> label id
    replays: list[tuple[str, int, int]] = field(default_factory=list)  # id, first, replayed
    statuses: dict[int, int] = field(default_factory=dict)
    dropped: int = 0  # connections closed or refused without any HTTP response
    completed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1


class Annotator:
    def __init__(self, bases: list[str], slug: str, pid: str, tally: Tally, seed: int):
        self.bases = bases  # web hosts; each request goes to one of them at random
        self.slug = slug
        self.pid = pid
        self.tally = tally
        self.rng = random.Random(seed)
        self.http = requests.Session()

    def _url(self, path: str) -> str:
        return self.rng.choice(self.bases) + path

    def _request(self, method: str, path: str, deadline: float, **kwargs) -> requests.Response:
        """One logical request, retried through outages until the deadline: a dropped
        connection or a 5xx/429 is tried again, as a browser's user would."""
        while True:
            try:
                response = self.http.request(method, self._url(path), timeout=15, **kwargs)
                self.tally.status(response.status_code)
                if response.status_code not in RETRYABLE:
                    return response
            except requests.ConnectionError:
                with self.tally.lock:
                    self.tally.dropped += 1
            except requests.Timeout:
                self.tally.status(0)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {path} kept failing until the deadline")
            time.sleep(0.2 + self.rng.random() * 0.3)

    def _csrf(self, html: str) -> str:
        match = CSRF_FIELD.search(html)
        assert match, "no CSRF field on the page"
        return match.group(1)

    def _form(self, path: str, data: dict, deadline: float) -> None:
        page = self._request("GET", path, deadline)
        self._request(
            "POST", path, deadline, data={**data, "csrfmiddlewaretoken": self._csrf(page.text)}
        )

    def enter(self, deadline: float) -> None:
        entry = f"/s/{self.slug}/"
        query = f"?PROLIFIC_PID={self.pid}&STUDY_ID=faults&SESSION_ID={self.pid}"
        self._request("GET", entry + query, deadline)
        self._form(entry, {}, deadline)
        self._form(f"/s/{self.slug}/consent/", {"agree": "on"}, deadline)
        self._form(f"/s/{self.slug}/about-you/", ANSWERS, deadline)

    def _headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.http.cookies.get("csrftoken", ""), "Referer": self.bases[0]}

    def label_all(self, deadline: float, replay_rate: float = 0.1, pause: float = 0.0) -> None:
        sent: list[tuple[dict, int]] = []
        while time.monotonic() < deadline:
            time.sleep(pause * self.rng.random() * 2)  # reading time
            response = self._request(
                "POST",
                f"/api/studies/{self.slug}/next/",
                deadline,
                headers=self._headers(),
                json={},
            )
            assert response.status_code == 200, response.text[:300]
            body = response.json()
            if body["status"] != "pair":
                with self.tally.lock:
                    self.tally.completed += body["status"] == "done"
                return
            payload = {
                "assignment_id": body["pair"]["assignment_id"],
                "submission_id": str(uuid.uuid4()),
                "choice": self.rng.choice(["left", "right", "left", "tie"]),
                "strength": self.rng.choice([1, 2, 3]),
            }
            label_id = self._submit(payload, deadline)
            sent.append((payload, label_id))
            if sent and self.rng.random() < replay_rate:
                # A flaky client resends an earlier label, out of order.
                old, first = self.rng.choice(sent)
                again = self._submit(old, deadline, replay=True)
                with self.tally.lock:
                    self.tally.replays.append((old["submission_id"], first, again))

    def next_payload(self, deadline: float) -> dict:
        response = self._request(
            "POST", f"/api/studies/{self.slug}/next/", deadline, headers=self._headers(), json={}
        )
        pair = response.json()["pair"]
        return {
            "assignment_id": pair["assignment_id"],
            "submission_id": str(uuid.uuid4()),
            "choice": "left",
            "strength": 2,
        }

    def race(self, payload: dict, copies: int, deadline: float) -> list[int]:
        """The same submission sent from ``copies`` threads at the same instant."""
        barrier = threading.Barrier(copies)
        ids: list[int] = []

        def send() -> None:
            barrier.wait()
            ids.append(self._submit(payload, deadline, replay=True))

        threads = [threading.Thread(target=send) for _ in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return ids

    def _submit(self, payload: dict, deadline: float, replay: bool = False) -> int:
        path = f"/api/studies/{self.slug}/labels/"
        response = self._request("POST", path, deadline, json=payload, headers=self._headers())
        assert response.status_code in (200, 201), f"{response.status_code} {response.text[:300]}"
        label_id = int(response.json()["label_id"])
        if not replay:
            with self.tally.lock:
                self.tally.acknowledged[payload["submission_id"]] = label_id
        return label_id

    def run(self, deadline: float, errors: list[BaseException], **options: float) -> None:
        try:
            self.enter(deadline)
            self.label_all(deadline, **options)
        except BaseException as error:  # the test reports every annotator's failure
            errors.append(error)


def crowd(bases: list[str], slug: str, n: int, seconds: float, seed: int = 0, **options: float):
    """Start ``n`` annotators for at most ``seconds`` (``options``: ``replay_rate``,
    ``pause``, see ``label_all``); returns (threads, tally, errors)."""
    tally, errors = Tally(), []
    deadline = time.monotonic() + seconds
    threads = []
    for k in range(n):
        annotator = Annotator(bases, slug, f"fault-{seed}-{k}", tally, seed * 1000 + k)
        thread = threading.Thread(
            target=annotator.run, args=(deadline, errors), kwargs=options, daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads, tally, errors
