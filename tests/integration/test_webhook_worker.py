"""A real Celery worker delivers a study's webhooks through the broker: a label and the
estimates it leads to reach a local receiver, signed, without the label waiting."""

import json

import numpy as np
import pytest

from collection.models import Webhook, WebhookDelivery
from tests.analysis.helpers import label_study
from tests.collection.test_webhooks import Receiver, _verify
from tests.factories import study_make
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.services


def test_a_worker_delivers_labels_and_estimates(celery_worker_process, stimulus_set):
    receiver = Receiver()
    try:
        study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2, min_annotators=2)
        hook = Webhook.objects.create(
            study=study, url=receiver.url, events=["label.created", "estimate.updated"]
        )
        label_study(study, annotators=2, rng=np.random.default_rng(5))
        wait_for(
            lambda: (
                WebhookDelivery.objects.filter(event="label.created", status="delivered").count()
                == 4
            ),
            timeout=60,
            worker=celery_worker_process,
            what="four label deliveries",
        )
        wait_for(
            lambda: WebhookDelivery.objects.filter(
                event="estimate.updated", status="delivered"
            ).exists(),
            timeout=60,
            worker=celery_worker_process,
            what="an estimate delivery (the worker's own refresh)",
        )
        assert celery_worker_process.count("collection.webhook_deliver") >= 5
        events = [json.loads(body)["event"] for _, body in receiver.requests]
        assert events.count("label.created") == 4 and "estimate.updated" in events
        assert all(_verify(hook.secret, headers, body) for headers, body in receiver.requests)
    finally:
        receiver.close()
