"""Outbound webhooks: a study's events, signed with the webhook's secret, POSTed by a
Celery task that retries with backoff. The request that caused an event never waits:
deliveries are queued once its transaction commits."""

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta

import httpx
from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from collection.models import Webhook, WebhookDelivery

logger = logging.getLogger(__name__)

DELIVER_TASK = "collection.webhook_deliver"
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5.0


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """What X-Counterpoint-Signature carries; a receiver computes the same to check it."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhooks_emit(*, study_id: int, event: str, data: dict) -> int:
    """Queue ``event`` for the study's active webhooks that want it, after the current
    transaction commits; returns how many deliveries were recorded."""
    hooks = [
        h
        for h in Webhook.objects.filter(study_id=study_id, active=True).only("pk", "events")
        if event in h.events
    ]
    if not hooks:
        return 0
    payload = json.loads(json.dumps({"event": event, "data": data}, cls=DjangoJSONEncoder))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(webhook=h, event=event, delivery_id=uuid.uuid4(), payload=payload)
        for h in hooks
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _enqueue(ids: list[int], countdown: float = 0) -> None:
    for pk in ids:
        try:
            current_app.send_task(DELIVER_TASK, args=[pk], countdown=countdown)
        except Exception:  # a broker outage: the delivery stays pending, visible in the admin
            logger.exception("could not queue webhook delivery %s", pk)


def webhook_deliver(*, delivery_id: int) -> bool | None:
    """One attempt: True delivered, False to retry, None nothing to do (done or failed).
    Every attempt is counted and its answer or error recorded."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return None
    hook = delivery.webhook
    body = json.dumps(
        {"delivery": str(delivery.delivery_id), "study": hook.study_id, **delivery.payload}
    ).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Counterpoint-Webhook/1",
        "X-Counterpoint-Event": delivery.event,
        "X-Counterpoint-Delivery": str(delivery.delivery_id),
        "X-Counterpoint-Timestamp": timestamp,
        "X-Counterpoint-Signature": webhook_signature(
            secret=hook.secret, timestamp=timestamp, body=body
        ),
    }
    code, error = None, ""
    try:
        answer = httpx.post(hook.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        code = answer.status_code
        if not 200 <= code < 300:
            error = f"answered {code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    attempts = delivery.attempts + 1
    if not error:
        status = WebhookDelivery.Status.DELIVERED
    elif attempts >= MAX_ATTEMPTS:
        status = WebhookDelivery.Status.FAILED
    else:
        status = WebhookDelivery.Status.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        last_activity_at=timezone.now(),
        attempts=attempts,
        last_status_code=code,
        last_error=error[:2000],
        status=status,
        delivered_at=timezone.now() if not error else None,
    )
    return True if not error else (False if status == WebhookDelivery.Status.PENDING else None)


def retry_countdown(attempts: int) -> float:
    """Seconds before the next attempt: 10, 20, 40, 80, 160 (about 5 minutes in all)."""
    return float(min(600, 10 * 2 ** max(0, attempts - 1)))


def webhooks_requeue(*, idle_seconds: float, limit: int = 500) -> int:
    """Queue again the pending deliveries idle for ``idle_seconds`` (their queueing failed
    in a broker outage, or a worker died holding their retry): an outage delays a
    delivery, it does not lose it. Receivers deduplicate on the delivery id."""
    cutoff = timezone.now() - timedelta(seconds=idle_seconds)
    ids = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, last_activity_at__lt=cutoff
        ).values_list("pk", flat=True)[:limit]
    )
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(last_activity_at=timezone.now())
        _enqueue(ids)
    return len(ids)
