import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from interventions.catalogue import CATALOGUE
from interventions.models import Intervention, StimulusSet
from interventions.selectors import stimulus_set_cell_counts
from interventions.services import interventions_install_builtin, stimulus_set_generate
from tests.factories import stimulus_set_make

ROW = {"prompt": "Name a prime.", "chosen": "7 is prime.", "rejected": "9 is prime."}


@pytest.mark.django_db
def test_pair_upload_reports_line_and_field_then_imports(admin_client):
    url = reverse("admin:stimulus_pairs_import")
    form = {"format": "trl", "stimulus_set_name": "prefs"}
    bad = SimpleUploadedFile("bad.jsonl", (json.dumps({**ROW, "rejected": ""}) + "\n").encode())
    page = admin_client.post(url, {**form, "file": bad})
    assert page.status_code == 200
    assert (
        "line 1: field &#x27;rejected&#x27; is empty; it must be non-empty text"
        in page.content.decode()
    )
    assert not StimulusSet.objects.exists()
    good = SimpleUploadedFile("good.jsonl", (json.dumps(ROW) + "\n").encode())
    assert admin_client.post(url, {**form, "file": good}).status_code == 302
    assert StimulusSet.objects.get(name="prefs").stimuli.count() == 1


@pytest.mark.django_db
def test_stimulus_set_page_shows_cells_and_rejection_reasons(admin_client):
    stimulus_set = stimulus_set_make(prompts=4, directions=("longer", "shorter"))
    interventions_install_builtin()
    stimulus_set.design = StimulusSet.Design.FACTORIAL
    stimulus_set.save()
    stimulus_set.interventions.add(Intervention.objects.get(name="sycophancy-more"))
    stimulus_set_generate(stimulus_set=stimulus_set)
    counts = stimulus_set_cell_counts(stimulus_set=stimulus_set)
    assert "length-longer+sycophancy-more" in counts
    page = admin_client.get(
        reverse("admin:interventions_stimulusset_change", args=[stimulus_set.pk])
    )
    html = page.content.decode()
    for cell, c in counts.items():
        assert f"<div>{cell}: {c['passed']} / {c['total']}</div>" in html
    assert "rejected: " in html or "passed: " in html
    listing = admin_client.get(reverse("admin:interventions_stimulusset_changelist"))
    assert reverse("admin:stimulus_pairs_import") in listing.content.decode()


@pytest.mark.django_db
def test_install_adds_the_catalogue_once():
    assert interventions_install_builtin() == len(CATALOGUE)
    assert interventions_install_builtin() == 0
    factual = Intervention.objects.get(name="factual-error")
    assert factual.check_measure == "numeric_edits" and factual.tolerances["words"] == 0
