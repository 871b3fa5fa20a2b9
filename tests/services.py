"""Access to the real services a test needs: fail in CI when missing, skip elsewhere."""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

HOW_TO_RUN_SERVICES = (
    "run with PostgreSQL and Redis, e.g. "
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/15 "
    "make test (or bash .ci/run, which starts them)"
)


def require(available: bool, what: str, how: str) -> None:
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI and is missing: {how}")
    pytest.skip(f"{what} not available: {how}")


def redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    url = urlparse(settings.REDIS_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), 1):
            return True
    except OSError:
        return False


def require_postgres_and_redis() -> None:
    require(
        connection.vendor == "postgresql" and redis_reachable(),
        "PostgreSQL and Redis",
        HOW_TO_RUN_SERVICES,
    )


def require_chromium() -> None:
    require(
        shutil.which(CHROMIUM) is not None,
        f"Chromium at {CHROMIUM}",
        "install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH",
    )
