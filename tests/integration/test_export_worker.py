"""Export asked for, bundle built by a real Celery worker through Redis, estimates in
its data card, loadable with datasets."""

import json
import zipfile

import datasets
import numpy as np
import pytest
from django.db import transaction

from analysis.models import Estimate
from collection.exports.columns import codebook
from collection.exports.services import export_file, export_request
from collection.models import Export, Label
from tests.analysis.helpers import label_study
from tests.factories import study_make, user_make
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.services


def test_a_worker_builds_the_export_with_the_estimates(celery_worker_process, tmp_path):
    study = study_make(labels_per_annotator=6, min_annotators=2)
    label_study(study, annotators=3, rng=np.random.default_rng(7), p_treated=0.75, tie_rate=0.2)
    newest = Label.objects.latest("pk").pk
    estimate = wait_for(
        lambda: Estimate.objects.filter(study=study, estimand="amce", watermark=newest).first(),
        timeout=60,
        worker=celery_worker_process,
        what="an estimate covering the last label",
    )
    with transaction.atomic():
        export = export_request(
            study=study,
            requested_by=user_make("exporter"),
            format="trl_conversational",
            file_format="parquet",
        )
    done = wait_for(
        lambda: (
            Export.objects.filter(pk=export.pk).exclude(status__in=["queued", "running"]).first()
        ),
        timeout=60,
        worker=celery_worker_process,
        what="the export",
    )
    assert done.status == "done", done.error
    assert celery_worker_process.count("analysis.export_build") >= 1
    path = export_file(done)
    assert path is not None
    with zipfile.ZipFile(path) as z:
        z.extractall(tmp_path)
        card = z.read("DATACARD.md").decode()
        assert list(json.loads(z.read("codebook.json"))) == list(codebook("trl_conversational"))
    row = f"| {estimate.intervention.name} | {estimate.get_estimand_display()} | "
    assert row + f"{estimate.point:+.3f} |" in card
    loaded = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / f"{study.slug}-trl_conversational.parquet"),
        split="train",
        cache_dir=str(tmp_path / "hf"),
    )
    assert loaded.num_rows == done.rows and done.labels == Label.objects.filter(study=study).count()
