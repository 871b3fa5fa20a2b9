"""Liveness and readiness for load balancers and orchestrators.

``/healthz``: the process answers (no dependency is touched). ``/readyz``: the database
answers, every migration is applied, and the broker answers; 503 with the failing
checks otherwise, so a balancer stops sending traffic until they pass."""

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return f"database unavailable: {exc.__class__.__name__}"
    return f"{len(plan)} migrations not applied: run manage.py migrate" if plan else "ok"


def _broker() -> str:
    if not settings.REDIS_URL:
        folder = settings.BROKER_DIR
        return "ok" if folder.is_dir() else f"broker folder {folder} missing"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
    except redis.RedisError as exc:
        return f"broker unavailable: {exc.__class__.__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    ready = all(value == "ok" for value in checks.values())
    response = JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks})
    if not ready:
        response.status_code = 503
        response["Retry-After"] = "5"
    return response
