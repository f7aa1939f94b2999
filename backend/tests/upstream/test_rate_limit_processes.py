"""Many clients of one account, in separate OS processes, never overrun amoCRM's limit.

The emulator enforces amoCRM's 7 requests per second per account and logs every answer, so
its request log is the judge: not a single 429.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from amocrm_emulator.testing import RunningEmulator
from upstream.upstream_support import amo_emulator, unique_prefix

from scripts.harness_constants import ACCOUNT_HOST, REDIS_URL

LOAD = Path(__file__).with_name("upstream_load.py")

pytestmark = pytest.mark.slow


async def run_processes(
    emulator: RunningEmulator,
    token: str,
    *,
    processes: int,
    clients: int,
    requests: int,
    redis_url: str,
) -> list[dict[str, Any]]:
    start_at = time.time() + 3.0  # every process starts sending at the same moment
    prefix = unique_prefix()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(LOAD),
            "--base-url",
            emulator.base_url,
            "--host",
            ACCOUNT_HOST,
            "--clients",
            str(clients),
            "--requests",
            str(requests),
            "--redis-url",
            redis_url,
            "--prefix",
            prefix,
            "--start-at",
            str(start_at),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "UPSTREAM_LOAD_TOKEN": token},
        )
        for _ in range(processes)
    ]
    results = []
    try:
        for proc in procs:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
            assert proc.returncode == 0, err.decode()
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    return results


def account_statuses(emulator: RunningEmulator) -> list[int | None]:
    return [r["status"] for r in emulator.control.requests(path="/api/v4/account")]


@pytest.mark.redis
async def test_fifty_clients_in_two_processes_sharing_redis_never_get_a_429() -> None:
    with amo_emulator(rate_limit=7) as emulator:
        token = emulator.token_for("broker1@reforyou.example")["access_token"]
        results = await run_processes(
            emulator, token, processes=2, clients=25, requests=2, redis_url=REDIS_URL
        )
        statuses = account_statuses(emulator)
    assert [r["statuses"] for r in results] == [{"200": 50}, {"200": 50}]
    assert statuses.count(429) == 0
    assert statuses.count(200) == 100


async def test_fifty_clients_in_one_process_without_redis_never_get_a_429() -> None:
    with amo_emulator(rate_limit=7) as emulator:
        token = emulator.token_for("broker1@reforyou.example")["access_token"]
        (result,) = await run_processes(
            emulator, token, processes=1, clients=50, requests=1, redis_url=""
        )
        statuses = account_statuses(emulator)
    assert result["statuses"] == {"200": 50}
    assert statuses.count(429) == 0
    assert statuses.count(200) == 50


async def test_without_a_shared_limiter_two_processes_do_get_429s() -> None:
    """The control: the same load with a budget per process overruns the account."""
    with amo_emulator(rate_limit=7) as emulator:
        token = emulator.token_for("broker1@reforyou.example")["access_token"]
        await run_processes(emulator, token, processes=2, clients=25, requests=2, redis_url="")
        statuses = account_statuses(emulator)
    assert statuses.count(429) > 0
