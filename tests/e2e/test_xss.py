"""Stored XSS: 42 payloads in every text a model, an annotator or a researcher can put
on a page (prompts, both responses, rationales, free-text answers, study title, consent
and instructions), opened in Chromium on the annotator pages, the admin and the results
page. Nothing may run, and no event handler or javascript: URL may reach the DOM."""

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.urls import reverse

from analysis.services import study_refresh
from annotators.models import CovariateResponse, CovariateSchema
from collection.models import Label, Study
from interventions.models import Prompt, Response, StimulusSet
from interventions.services import stimulus_pairs_import

pytestmark = pytest.mark.browser

PAYLOADS = (Path(__file__).resolve().parents[1] / "data" / "xss_payloads.txt").read_text()
PAIRS = 3

# Run in the page before its own scripts (Playwright injects it past the CSP): a payload
# that runs calls __xss; the DOM audit finds handlers and javascript: URLs that did not
# run (the CSP stopped them) but that the sanitiser should have removed.
PROBE = "window.__hits = []; window.__xss = (n) => window.__hits.push(n);"
AUDIT = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const value = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (a.name.startsWith('on')) bad.push(`${el.tagName} ${a.name}`);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'srcdoc']
            .includes(a.name) && (value.startsWith('javascript:') || a.name === 'srcdoc'))
        bad.push(`${el.tagName} ${a.name}=${a.value}`);
    }
    if (el.tagName === 'SCRIPT' && !el.src) bad.push('inline script');
  }
  return {hits: window.__hits, bad: bad};
}"""


def _study() -> Study:
    lines = [
        json.dumps(
            {
                "prompt_id": f"xss-{i}",
                "prompt": f"Question {i}\n\n{PAYLOADS}",
                "control": f"Control {i}\n\n{PAYLOADS}",
                "treated": f"Treated {i}\n\n{PAYLOADS}\n\nLonger.",
                "intervention": "xss-probe",
            }
        )
        for i in range(PAIRS)
    ]
    stimulus_pairs_import(lines=lines, format="pairs-jsonl", source="xss", stimulus_set_name="xss")
    schema = CovariateSchema.objects.create(
        name="xss", questions=[{"key": "note", "label": "Anything to add?", "type": "text"}]
    )
    study = Study.objects.create(
        slug="xss",
        title='<img src=x onerror=__xss(99)> "><script>__xss(98)</script>',
        status=Study.Status.RUNNING,
        labels_per_annotator=PAIRS,
        replication_factor=2,
        consent_text=PAYLOADS,
        instructions=PAYLOADS,
        covariate_schema=schema,
        completion_code="XSS-DONE",
        seed=3,
    )
    study.stimulus_sets.add(StimulusSet.objects.get(name="xss"))
    return study


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(PROBE)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return page, dialogs


def _audit(page, dialogs: list[str], where: str) -> None:
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)  # onerror/onload handlers fire after load
    found = page.evaluate(AUDIT)
    assert found["hits"] == [] and not dialogs, f"{where}: payloads ran: {found}, {dialogs}"
    assert found["bad"] == [], f"{where}: unsafe markup reached the DOM: {found['bad'][:10]}"


def test_no_payload_runs_on_any_page(transactional_db, live_server, browser_page):
    page, dialogs = browser_page
    try:
        study = _study()
        base = live_server.url
        page.goto(f"{base}/s/{study.slug}/")
        _audit(page, dialogs, "entry")
        page.click("#start")
        _audit(page, dialogs, "consent")
        page.check("#id_agree")
        page.click("#consent")
        _audit(page, dialogs, "questionnaire")
        page.fill("#id_note", PAYLOADS)
        page.click("#about-you")
        for n in range(PAIRS):
            # The form stays on the page while a label is in flight: wait for the pair
            # itself, or the clicks below land on the old one as the new one replaces it.
            page.wait_for_selector(f"text={n} / {PAIRS}")
            _audit(page, dialogs, f"label page {n}")
            page.click("#choice-left")
            page.fill("textarea[name=rationale]", PAYLOADS)
            page.click("#submit")
        page.wait_for_selector("#completion-code")
        _audit(page, dialogs, "done")
        assert Label.objects.filter(study=study).count() == PAIRS
        assert CovariateResponse.objects.get().answers["note"].startswith("<script>")
        study_refresh(study_id=study.pk)

        get_user_model().objects.create_superuser("admin", "a@example.org", "pw-xss-test")
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", "pw-xss-test")
        page.click("input[type=submit]")
        label = Label.objects.filter(study=study).first()
        pages = {
            "study": reverse("admin:collection_study_change", args=[study.pk]),
            "studies": reverse("admin:collection_study_changelist"),
            "labels": reverse("admin:collection_label_changelist"),
            "label": reverse("admin:collection_label_change", args=[label.pk]),
            "answers": reverse(
                "admin:annotators_covariateresponse_change",
                args=[CovariateResponse.objects.get().pk],
            ),
            "prompt": reverse(
                "admin:interventions_prompt_change", args=[Prompt.objects.first().pk]
            ),
            "response": reverse(
                "admin:interventions_response_change", args=[Response.objects.first().pk]
            ),
            "stimulus": reverse(
                "admin:interventions_stimulus_change", args=[label.assignment.stimulus_id]
            ),
            "results": reverse("analysis:results", args=[study.slug]),
        }
        for name, url in pages.items():
            response = page.goto(base + url)
            assert response is not None and response.status == 200, name
            _audit(page, dialogs, name)
    finally:
        connections.close_all()
