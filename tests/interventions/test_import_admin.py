"""The admin import pages: all or nothing by default, the checkbox that imports the valid
rows and reports the rest on the page and as CSV, gzip uploads, and no 500 on bad rows."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from interventions.models import Prompt, StimulusSet
from tests.interventions.test_import_robustness import BAD, GOOD_ROWS, HH_GZ, PROMPT

CHECKBOX = "Import the valid rows and report the rest"


def _pairs_form(**extra):
    upload = SimpleUploadedFile(HH_GZ.name, HH_GZ.read_bytes())
    return {"format": "hh-rlhf", "stimulus_set_name": "hh", "file": upload, **extra}


@pytest.mark.django_db
def test_pair_page_offers_the_checkbox(admin_client):
    page = admin_client.get(reverse("admin:stimulus_pairs_import")).content.decode()
    assert f'<label for="id_skip_invalid">{CHECKBOX}:</label>' in page
    assert 'type="checkbox" name="skip_invalid"' in page


@pytest.mark.django_db
def test_gzip_upload_without_the_checkbox_lists_errors_and_names_the_option(admin_client):
    page = admin_client.post(reverse("admin:stimulus_pairs_import"), _pairs_form())
    html = page.content.decode()
    assert page.status_code == 200
    for line in BAD:
        assert f"line {line}: " in html
    assert f"{GOOD_ROWS} rows are valid: tick “{CHECKBOX}”" in html
    assert "Nothing was imported: 7 rows have problems" in html
    assert not StimulusSet.objects.exists() and not Prompt.objects.exists()


@pytest.mark.django_db
def test_gzip_upload_with_the_checkbox_imports_and_reports_each_bad_row(admin_client):
    page = admin_client.post(reverse("admin:stimulus_pairs_import"), _pairs_form(skip_invalid="on"))
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Imported {GOOD_ROWS} pairs into stimulus set &#x27;hh&#x27;" in html
    assert "Rejected rows: 7 not imported" in html
    for line, reason in BAD.items():
        assert f"<tr><td>{line}</td><td>{escape(reason)}" in html
    assert StimulusSet.objects.get(name="hh").stimuli.count() == GOOD_ROWS
    report = admin_client.get(reverse("admin:stimulus_pairs_import_report"))
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in report["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert [(int(r["line"]), BAD[int(r["line"])] in r["reason"]) for r in rows] == [
        (line, True) for line in BAD
    ]


@pytest.mark.django_db
def test_report_download_needs_an_import_first(admin_client):
    assert admin_client.get(reverse("admin:prompt_import_report")).status_code == 404


@pytest.mark.django_db
def test_prompt_upload_with_a_nul_is_a_line_error_then_imports_with_the_checkbox(admin_client):
    url = reverse("admin:prompt_import")
    content = (
        json.dumps(PROMPT) + "\n" + json.dumps({**PROMPT, "prompt_id": "p2", "prompt": "a\x00"})
    ).encode()
    page = admin_client.post(url, {"file": SimpleUploadedFile("p.jsonl", content)})
    assert page.status_code == 200
    assert "line 2: field &#x27;prompt&#x27; contains a NUL character" in page.content.decode()
    assert not Prompt.objects.exists()
    page = admin_client.post(
        url, {"file": SimpleUploadedFile("p.jsonl", content), "skip_invalid": "on"}
    )
    assert "Imported 1 prompts and 1 responses." in page.content.decode()
    assert list(Prompt.objects.values_list("external_id", flat=True)) == ["p1"]


@pytest.mark.django_db
def test_a_clean_upload_with_the_checkbox_goes_back_to_the_list(admin_client):
    url = reverse("admin:prompt_import")
    upload = SimpleUploadedFile("p.jsonl", (json.dumps(PROMPT) + "\n").encode())
    page = admin_client.post(url, {"file": upload, "skip_invalid": "on"})
    assert page.status_code == 302 and Prompt.objects.count() == 1


@pytest.mark.django_db
def test_upload_limit_applies_to_the_decompressed_size(admin_client, settings):
    settings.IMPORT_MAX_BYTES = 50_000
    page = admin_client.post(reverse("admin:stimulus_pairs_import"), _pairs_form(skip_invalid="on"))
    assert "holds more than 50,000 bytes (decompressed)" in page.content.decode()
    assert not StimulusSet.objects.exists()
