"""Label Studio as bench_load.py measures it: an installed Label Studio (its own
virtualenv, never a dependency of ours) served by gunicorn with the same workers and
threads as Counterpoint, on a PostgreSQL cluster of its own (fsync off, as ours), with one
project of pairwise tasks and one API token per annotator.

    python3.11 -m venv /tmp/ls && /tmp/ls/bin/pip install label-studio==1.23.2 gunicorn
    .venv/bin/python tests/benchmarks/bench_load.py --label-studio /tmp/ls/bin/python

Label Studio runs with its shipped settings (among them a new database connection per
request, its default); only DEBUG is off and logging quiet, as in a production install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import requests

from tests.faults.cluster import Host, OwnPostgres, free_port, wait_until

# Label Studio's Pairwise tag over the same three texts a Counterpoint pair shows.
LABEL_CONFIG = (
    '<View><Header value="$prompt"/><Pairwise name="pw" toName="left,right"/>'
    '<Text name="left" value="$left"/><Text name="right" value="$right"/></View>'
)

_SETUP = """
import json
from organizations.models import Organization
from rest_framework.authtoken.models import Token
from users.models import User

owner = User.objects.create_user(email="owner@bench.local", password="bench-owner-pass")
owner.is_staff = owner.is_superuser = True
owner.save()
org = Organization.create_organization(
    created_by=owner, title="bench", legacy_api_tokens_enabled=True
)
owner.active_organization = org
owner.save(update_fields=["active_organization"])
tokens = []
for k in range({annotators}):
    user = User.objects.create_user(email=f"a{{k}}@bench.local", password="bench-pass")
    org.add_user(user)
    user.active_organization = org
    user.save(update_fields=["active_organization"])
    tokens.append(Token.objects.get_or_create(user=user)[0].key)
print("TOKENS " + json.dumps([Token.objects.get_or_create(user=owner)[0].key, *tokens]))
"""


class LabelStudio:
    """A running Label Studio with ``annotators`` users, a pairwise project and ``tasks``
    tasks of the given texts (prompt, left, right)."""

    def __init__(
        self,
        python: str,
        *,
        annotators: int,
        texts: tuple[str, str, str],
        tasks: int,
        workers: str,
        threads: str,
    ) -> None:
        self.python = python
        self.package = Path(
            subprocess.run(
                [
                    python,
                    "-c",
                    "import label_studio, os; print(os.path.dirname(label_studio.__file__))",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        self.postgres = OwnPostgres()
        self.data = Path(tempfile.mkdtemp(prefix="cp-ls-data-"))
        self.web: Host | None = None
        try:
            self._manage("migrate", "--verbosity=0")
            out = self._manage("shell", stdin=_SETUP.format(annotators=annotators))
            owner, *self.tokens = json.loads(out.split("TOKENS ", 1)[1].splitlines()[0])
            self.port = free_port()
            command = [python, "-m", "gunicorn", "--chdir", str(self.package)]
            command += ["-b", f"127.0.0.1:{self.port}", "-w", workers, "--threads", threads]
            command += ["-k", "gthread", "--keep-alive", "75", "core.wsgi:application"]
            self.web = Host("label-studio", command, self._env())
            self.web.start()
            wait_until(self._up, timeout=120, what="Label Studio to answer")
            self.project = self._api(
                owner, "POST", "/api/projects/", {"title": "pairs", "label_config": LABEL_CONFIG}
            )["id"]
            prompt, left, right = texts
            rows = [{"prompt": prompt, "left": left, "right": right} for _ in range(tasks)]
            self._api(owner, "POST", f"/api/projects/{self.project}/import", rows)
            self.first_task = int(self._sql("SELECT min(id) FROM task")[0][0])
        except BaseException:
            self.close()
            raise

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CI_"))}
        return {
            **keep,
            "DJANGO_SETTINGS_MODULE": "core.settings.label_studio",
            "DJANGO_DB": "default",
            "POSTGRE_NAME": "counterpoint",
            "POSTGRE_USER": "postgres",
            "POSTGRE_PASSWORD": "",
            "POSTGRE_HOST": "127.0.0.1",
            "POSTGRE_PORT": str(self.postgres.port),
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.data),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
        }

    def _manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=self.package,
            env=self._env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"Label Studio's manage.py {args[0]} failed:\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def _up(self) -> bool:
        try:
            return requests.get(self.base + "/health", timeout=2).ok
        except OSError:
            return False

    def _api(self, token: str, method: str, path: str, body: object) -> dict:
        answer = requests.request(
            method,
            self.base + path,
            json=body,
            headers={"Authorization": f"Token {token}"},
            timeout=300,
        )
        if not answer.ok:
            raise RuntimeError(
                f"Label Studio {method} {path}: {answer.status_code} {answer.text[:500]}"
            )
        return answer.json()

    def tokens_file(self) -> Path:
        path = Path(tempfile.mkstemp(prefix="cp-ls-tokens-", suffix=".txt")[1])
        path.write_text("\n".join(self.tokens) + "\n")
        return path

    def annotations(self) -> int:
        return int(self._sql("SELECT count(*) FROM task_completion")[0][0])

    def _sql(self, statement: str) -> list[tuple]:
        with psycopg.connect(self.postgres.url(), autocommit=True) as conn:
            return conn.execute(statement).fetchall()

    def close(self) -> None:
        if self.web is not None:
            self.web.stop()
        self.postgres.close()
        shutil.rmtree(self.data, ignore_errors=True)
