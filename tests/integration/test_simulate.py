"""manage.py simulate against a live server with a real Celery worker on Redis: the labels
are stored, the worker refreshes the estimates, and the estimate lands near the truth the
population planted."""

import io

import pytest
from django.core.management import call_command

from analysis.models import Estimate, RefreshState
from collection.models import Label
from simulation.selectors import planted_effects
from tests.factories import user_make
from tests.integration.conftest import wait_for
from tests.simulation.helpers import population_file, simulated_study_make

pytestmark = pytest.mark.services


def test_simulated_annotators_recover_the_planted_effect(
    celery_worker_process, live_server, tmp_path, client
):
    study = simulated_study_make(labels_per_annotator=8)
    study.owners.add(owner := user_make("sim-owner"))
    out = io.StringIO()
    call_command(
        "simulate", study.slug, "--population", str(population_file(tmp_path)),
        "--annotators", "20", "--base-url", live_server.url, "--concurrency", "4", stdout=out,
    )  # fmt: skip
    assert "20 annotators gave 160 labels: 20 completed" in out.getvalue()
    assert Label.objects.filter(study=study).count() == 160
    newest = Label.objects.filter(study=study).latest("pk").pk

    def refreshed():
        return RefreshState.objects.filter(study=study, watermark=newest).exists()

    wait_for(refreshed, timeout=90, worker=celery_worker_process, what="the estimates")
    estimate = Estimate.objects.filter(study=study, estimand="amce", subgroup="all").latest("pk")
    assert estimate.n_labels == 160 and estimate.n_annotators == 20
    (row,) = planted_effects(study)
    # 160 labels from 20 annotators: the estimate's SE is about 0.04; 0.15 is generous.
    assert row.planted > 0.15
    assert row.estimate == pytest.approx(row.planted, abs=0.15)
    assert row.ci_low is not None and row.ci_low > 0
    client.force_login(owner)
    page = client.get(f"/simulation/{study.slug}/")
    assert page.status_code == 200
    assert f"{row.planted:.3f}" in page.content.decode()
