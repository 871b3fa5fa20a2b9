"""Outbound webhooks: a study's events reach a real local HTTP server, signed with the
webhook's secret; failures are retried with backoff and counted; only the events asked
for are sent."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from analysis.services import study_refresh
from collection.models import Label, Webhook, WebhookDelivery
from collection.services.webhooks import MAX_ATTEMPTS, retry_countdown, webhook_deliver
from collection.tasks import webhook_deliver_task
from tests.analysis.helpers import label_study
from tests.factories import stimulus_set_make, study_make


class Receiver:
    """A local HTTP server that records what it is sent and answers ``status``."""

    def __init__(self, status: int = 200):
        self.status, self.requests = status, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does, written from the README's description."""
    message = headers["X-Counterpoint-Timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Counterpoint-Signature"])


@pytest.mark.django_db
def test_a_label_reaches_the_receiver_signed(stimulus_set, receiver):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2)
    hook = Webhook.objects.create(study=study, url=receiver.url, events=["label.created"])
    label_study(study, annotators=1, rng=np.random.default_rng(0))
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    labels = list(Label.objects.filter(study=study).order_by("pk"))
    assert len(deliveries) == len(labels) == 2
    for delivery in deliveries:
        assert webhook_deliver(delivery_id=delivery.pk) is True
    assert [d.status for d in WebhookDelivery.objects.all()] == ["delivered"] * 2
    for (headers, body), label in zip(receiver.requests, labels, strict=True):
        assert _verify(hook.secret, headers, body)
        assert not _verify("another secret", headers, body)
        sent = json.loads(body)
        assert sent["event"] == headers["X-Counterpoint-Event"] == "label.created"
        assert sent["study"] == study.pk and sent["data"]["label_id"] == label.pk
        assert sent["data"]["choice"] == label.choice
        assert sent["delivery"] == headers["X-Counterpoint-Delivery"]
    # Delivered once: a second run sends nothing.
    assert webhook_deliver(delivery_id=deliveries[0].pk) is None
    assert len(receiver.requests) == 2


@pytest.mark.django_db
def test_a_webhook_added_or_switched_off_mid_study_counts_from_the_next_label(stimulus_set):
    # Whether a study has an active webhook is read with each label's locks, never
    # remembered: the label after a change sees it.
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=2, min_annotators=3)
    label_study(study, annotators=1, rng=np.random.default_rng(2))
    assert not WebhookDelivery.objects.exists()
    hook = Webhook.objects.create(study=study, url="http://127.0.0.1:9/", events=["label.created"])
    label_study(study, annotators=1, rng=np.random.default_rng(3))
    told = list(WebhookDelivery.objects.values_list("payload__data__label_id", flat=True))
    assert sorted(told) == list(
        Label.objects.filter(study=study).order_by("pk")[2:].values_list("pk", flat=True)
    )
    hook.active = False
    hook.save()
    label_study(study, annotators=1, rng=np.random.default_rng(4))
    assert Label.objects.filter(study=study).count() == 6
    assert WebhookDelivery.objects.count() == 2


@pytest.mark.django_db
def test_only_the_events_asked_for_are_sent(stimulus_set, receiver):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=3, min_annotators=2)
    Webhook.objects.create(study=study, url=receiver.url, events=["estimate.updated"])
    Webhook.objects.create(study=study, url=receiver.url, events=["label.created"], active=False)
    label_study(study, annotators=3, rng=np.random.default_rng(1))
    assert not WebhookDelivery.objects.exists()
    study_refresh(study_id=study.pk)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event == "estimate.updated"
    estimates = delivery.payload["data"]["estimates"]
    assert estimates and {"point", "ci_low", "ci_high", "n_labels"} <= set(estimates[0])
    assert delivery.payload["data"]["watermark"] == Label.objects.latest("pk").pk


@pytest.mark.django_db
def test_the_stopping_rule_met_sends_study_completed(receiver):
    study = study_make(
        stimulus_set=stimulus_set_make(prompts=15),
        labels_per_annotator=10,
        replication_factor=4,
        stopping_rule={"label_budget": 15},
        min_annotators=2,
    )
    Webhook.objects.create(study=study, url=receiver.url, events=["study.completed"])
    label_study(
        study,
        annotators=2,
        rng=np.random.default_rng(2),
        refresh=lambda: study_refresh(study_id=study.pk),
    )
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.event == "study.completed"
    assert "label budget reached" in delivery.payload["data"]["reasons"][0]


@pytest.mark.django_db
def test_a_failing_receiver_is_retried_with_backoff_then_given_up(stimulus_set):
    failing = Receiver(status=500)
    try:
        study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
        Webhook.objects.create(study=study, url=failing.url, events=["label.created"])
        label_study(study, annotators=1, rng=np.random.default_rng(3))
        (delivery,) = WebhookDelivery.objects.all()
        # Eagerly, Celery runs each retry at once: every attempt reaches the server.
        webhook_deliver_task.apply(args=[delivery.pk])
        delivery.refresh_from_db()
        assert delivery.status == "failed" and delivery.attempts == MAX_ATTEMPTS
        assert delivery.last_status_code == 500 and "answered 500" in delivery.last_error
        assert len(failing.requests) == MAX_ATTEMPTS
    finally:
        failing.close()
    assert [retry_countdown(n) for n in range(1, 6)] == [10, 20, 40, 80, 160]


@pytest.mark.django_db
def test_an_unreachable_receiver_is_recorded_and_stays_pending(stimulus_set):
    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=1)
    Webhook.objects.create(study=study, url="http://127.0.0.1:9/nothing", events=["label.created"])
    label_study(study, annotators=1, rng=np.random.default_rng(4))
    (delivery,) = WebhookDelivery.objects.all()
    assert webhook_deliver(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "ConnectError" in delivery.last_error


@pytest.mark.django_db
def test_the_sweep_requeues_idle_pending_deliveries_only(stimulus_set, receiver):
    from datetime import timedelta

    from django.utils import timezone

    from collection.services.webhooks import webhooks_requeue

    study = study_make(stimulus_set=stimulus_set, labels_per_annotator=3)
    Webhook.objects.create(study=study, url=receiver.url, events=["label.created"])
    label_study(study, annotators=1, rng=np.random.default_rng(6))
    idle, fresh, done = WebhookDelivery.objects.order_by("pk")
    WebhookDelivery.objects.filter(pk__in=[idle.pk, done.pk]).update(
        last_activity_at=timezone.now() - timedelta(hours=1)
    )
    WebhookDelivery.objects.filter(pk=done.pk).update(status="delivered")
    assert webhooks_requeue(idle_seconds=900) == 1
    idle.refresh_from_db()
    assert idle.last_activity_at > timezone.now() - timedelta(minutes=1)
    assert webhooks_requeue(idle_seconds=900) == 0  # just queued: not idle any more
