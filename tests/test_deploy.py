import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "a" * 10 + "-production-secret-with-enough-entropy-1234567890",
        "SECURE_SSL": "true",
        "ALLOWED_HOSTS": "counterpoint.example.org",
        "COUNTERPOINT_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_embedded_defaults_use_sqlite_wal_and_filesystem_broker(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings", "COUNTERPOINT_VAR_DIR": str(tmp_path)}
    code = (
        "import django; django.setup();"
        "from django.conf import settings as s; from django.db import connection as c;"
        "c.ensure_connection();"
        "print(c.vendor, c.cursor().execute('PRAGMA journal_mode').fetchone()[0],"
        " s.CELERY_BROKER_URL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["sqlite", "wal", "filesystem://localhost//"], result.stderr
