"""The metrics module: account-independent labels, and one `/metrics` body for all workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from foryou.upstream.metrics import path_template, render


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v4/leads", "/api/v4/leads"),
        ("/api/v4/leads/31920194", "/api/v4/leads/{id}"),
        ("/api/v4/leads/12/notes/7", "/api/v4/leads/{id}/notes/{id}"),
        ("/api/v4/users/0b9f1c2e-4d5a-4e6f-8a7b-9c0d1e2f3a4b", "/api/v4/users/{id}"),
        ("/oauth2/access_token", "/oauth2/access_token"),
        ("", "/"),
    ],
)
def test_paths_are_counted_without_ids(path: str, template: str) -> None:
    assert path_template(path) == template


def test_render_exposes_every_foryou_metric() -> None:
    body, content_type = render()
    text = body.decode()
    assert content_type.startswith("text/plain")
    for name in (
        "foryou_upstream_requests_total",
        "foryou_upstream_limiter_wait_seconds",
        "foryou_upstream_circuit_opens_total",
        "foryou_token_refreshes_total",
        "foryou_token_lease_wait_seconds",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text


_WORKER = """
from foryou.integrations.amocrm.metrics import TOKEN_REFRESHES
from foryou.upstream.metrics import METRICS
METRICS.requests.labels("GET", "/api/v4/account", "200").inc(3)
TOKEN_REFRESHES.labels("refreshed").inc()
"""

_READER = """
from foryou.upstream.metrics import render
print(render()[0].decode())
"""


def test_several_worker_processes_are_merged_into_one_answer(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two API worker processes count their own requests
        subprocess.run([sys.executable, "-c", _WORKER], env=env, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-c", _READER],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    assert (
        'foryou_upstream_requests_total{method="GET",path="/api/v4/account",status="200"} 6.0'
        in out
    )
    assert 'foryou_token_refreshes_total{outcome="refreshed"} 2.0' in out
