"""Scaling out, smoke-tested: two web hosts and two worker hosts (processes on their own
ports, sharing one PostgreSQL, one Redis and the secret and pseudonym keys) serve one
study; annotators' requests go to either web host at random, as behind a load balancer."""

import subprocess
import sys

import pytest

from tests.faults.annotators import crowd
from tests.faults.cluster import ROOT, Deployment

pytestmark = pytest.mark.services


def test_two_web_hosts_and_two_workers_serve_one_study():
    deployment = Deployment(web=2, workers=2)
    try:
        deployment.sql("UPDATE collection_study SET labels_per_annotator = 10 WHERE slug = 'demo'")
        bases = [deployment.base_url(web) for web in deployment.webs]
        threads, tally, errors = crowd(bases, "demo", 8, 120, seed=9)
        for thread in threads:
            thread.join(150)
        assert not errors, f"{errors[:3]}\n{deployment.logs()}"
        assert tally.completed == 8 and len(tally.acknowledged) == 80
        assert not {code for code in tally.statuses if code >= 400}, tally.statuses
        stored = deployment.sql(
            "SELECT count(*), count(DISTINCT submission_id) FROM collection_label"
        )
        assert stored == [(80, 80)]
        # A cookie set by one host was read by the other: both served labels.
        for web in deployment.webs:
            served = sum("/api/studies/demo/labels/" in line for line in web.lines)
            assert served > 0, f"{web.name} served no label:\n{web.log()}"
        ping = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "config", "inspect", "ping", "--timeout=5"],
            cwd=ROOT,
            env=deployment.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        answered = [line for line in ping.stdout.splitlines() if "pong" in line]
        assert len(answered) == 2, ping.stdout + ping.stderr
        deployment.wait_settled("demo")
    finally:
        deployment.close()
    for host in deployment.webs + deployment.workers:
        assert host.process is not None and host.process.poll() is not None, f"{host.name} runs"
