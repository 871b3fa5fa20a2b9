"""Task outcomes from a real worker reach /metrics, whichever process serves it."""

import re

import numpy as np
import pytest
from celery import current_app

from tests.analysis.helpers import label_study
from tests.factories import study_make
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.services


def _count(client, task: str, outcome: str) -> float:
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    pattern = rf'counterpoint_task_outcomes_total{{outcome="{outcome}",task="{task}"}} ([\d.e+]+)'
    found = re.search(pattern, body)
    return float(found.group(1)) if found else 0.0


def test_succeeded_and_failed_tasks_are_counted(celery_worker_process, client):
    refreshed = _count(client, "analysis.refresh_study", "succeeded")
    failed = _count(client, "analysis.refresh_study", "failed")
    label_study(study_make(labels_per_annotator=2), annotators=1, rng=np.random.default_rng(1))
    wait_for(
        lambda: _count(client, "analysis.refresh_study", "succeeded") > refreshed,
        timeout=60,
        worker=celery_worker_process,
        what="a counted refresh",
    )
    # A study id that is not a number: the task raises, and the failure is counted.
    current_app.send_task("analysis.refresh_study", args=["not-a-study"])
    wait_for(
        lambda: _count(client, "analysis.refresh_study", "failed") > failed,
        timeout=60,
        worker=celery_worker_process,
        what="a counted failure",
    )
