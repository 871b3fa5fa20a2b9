import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from collection.management.commands.demo import web_command

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_once(command: list[str], env: dict[str, str], port: int) -> None:
    """Start gunicorn, wait until it answers on its port, stop it."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"gunicorn did not listen on {port} within 60s")
        time.sleep(1)  # past the arbiter's start, where a control socket would be opened
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_gunicorn_writes_nothing_outside_the_project(tmp_path):
    """Production's config file and the demo's command line: no ~/.gunicorn/ control socket."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "COUNTERPOINT_VAR_DIR": str(tmp_path / "var"),
        "WEB_CONCURRENCY": "1",
    }
    port = _free_port()
    production = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"]
    _serve_once(production, env | {"BIND": f"127.0.0.1:{port}"}, port)
    port = _free_port()
    _serve_once(web_command(sys.executable, port), env, port)
    assert list(home.iterdir()) == []
