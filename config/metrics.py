"""Prometheus metrics (prometheus-client) at /metrics.

Per web process: request latency by route and status, label submissions. Read from the
database and the broker at each scrape, so any process answers the same: labels per
study, refresh lag (the newest label id minus the estimates' watermark, per study) and
the depth of the task queue. /metrics answers only requests carrying METRICS_TOKEN as a
bearer token, or from the addresses in METRICS_ALLOWED_IPS (default: this machine)."""

import secrets
import time
from collections.abc import Callable, Iterator

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from config.client_address import client_address
from config.task_metrics import outcome_counts

REGISTRY = CollectorRegistry()
LATENCY = Histogram(
    "counterpoint_request_seconds",
    "Time to answer a request, by route and status class.",
    ["route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SUBMISSIONS = Counter(
    "counterpoint_label_submissions",
    "Label submissions this web process answered with success (API 201, page redirect); "
    "a replayed submission counts again, so read stored labels from counterpoint_study_labels.",
    registry=REGISTRY,
)
SHED = Counter(
    "counterpoint_shed_requests",
    "Requests answered 503 at once because they waited longer than SHED_QUEUE_SECONDS for "
    "a thread (config.load_shedding).",
    registry=REGISTRY,
)


class StudyCollector(Collector):
    """Gauges read at scrape time from the database and the broker."""

    def collect(self) -> Iterator[Metric]:
        from analysis.models import RefreshState  # the apps are ready by scrape time
        from collection.models import Label

        labels = GaugeMetricFamily(
            "counterpoint_study_labels", "Labels of each study.", labels=["study"]
        )
        lag = GaugeMetricFamily(
            "counterpoint_refresh_lag_labels",
            "Newest label id minus the id the study's estimates cover (0: up to date).",
            labels=["study"],
        )
        try:
            per_study = list(
                Label.objects.values("study__slug")
                .annotate(n=Count("pk"), top=Max("pk"))
                .values_list("study__slug", "n", "top")
            )
            covered = dict(RefreshState.objects.values_list("study__slug", "watermark"))
        except DatabaseError:
            return
        for slug, count, top in per_study:
            labels.add_metric([slug], count)
            lag.add_metric([slug], max(0, top - covered.get(slug, 0)))
        yield labels
        yield lag
        if settings.REDIS_URL:
            depth = GaugeMetricFamily(
                "counterpoint_queue_depth", "Tasks waiting in the Celery queue."
            )
            try:
                client = redis.Redis.from_url(
                    settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
                )
                depth.add_metric([], client.llen(settings.CELERY_TASK_DEFAULT_QUEUE))
            except redis.RedisError:
                return
            yield depth
        outcomes = CounterMetricFamily(
            "counterpoint_task_outcomes",
            "Celery tasks finished by every worker, by task and outcome (succeeded, retried, "
            "failed); counted in Redis, so absent on the embedded broker.",
            labels=["task", "outcome"],
        )
        for (task, outcome), count in sorted(outcome_counts().items()):
            outcomes.add_metric([task, outcome], count)
        yield outcomes


REGISTRY.register(StudyCollector())


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match is not None else "unmatched"
        status = f"{response.status_code // 100}xx"
        LATENCY.labels(route=route, status=status).observe(time.perf_counter() - started)
        if (route == "collection_api:label" and response.status_code == 201) or (
            route == "collection:label" and request.method == "POST" and response.status_code == 302
        ):
            SUBMISSIONS.inc()
        return response


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = (token and secrets.compare_digest(given, token)) or (
        client_address(request) in settings.METRICS_ALLOWED_IPS
    )
    if not allowed:
        return HttpResponse("metrics: send METRICS_TOKEN as a bearer token", status=403)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
