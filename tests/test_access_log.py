"""No Prolific id in gunicorn's access log, from the production config or the demo."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from collection.management.commands.demo import web_command
from tests.test_deploy import _free_port

ROOT = Path(__file__).resolve().parent.parent
NEEDLE = "pid-needle-7c1e"


def _requests_logged(command: list[str], env: dict[str, str], port: int) -> str:
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/s/no-such-study/?PROLIFIC_PID={NEEDLE}&SESSION_ID=s"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(url, headers={"Referer": url}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 60s"
                time.sleep(0.3)
        assert response.status_code == 404, response.text[:300]
        time.sleep(0.5)  # the access line is written after the response
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    return output


def test_no_prolific_id_in_the_access_log(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "COUNTERPOINT_VAR_DIR": str(tmp_path / "var"),
        "WEB_CONCURRENCY": "1",
    }
    for step in (["migrate"], ["collectstatic", "--no-input"]):
        command = [sys.executable, "manage.py", *step, "--verbosity", "0"]
        subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=180)
    port = _free_port()
    production = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"]
    logs = {
        "production": _requests_logged(production, env | {"BIND": f"127.0.0.1:{port}"}, port),
    }
    port = _free_port()
    logs["demo"] = _requests_logged(web_command(sys.executable, port), env, port)
    for name, log in logs.items():
        assert NEEDLE not in log, f"{name} logged the id:\n{log}"
        assert "GET /s/no-such-study/" in log, f"{name}: no access line:\n{log}"
