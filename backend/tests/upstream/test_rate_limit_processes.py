"""Many clients of one account, in separate OS processes, never overrun amoCRM's limit."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from upstream.upstream_support import (
    ACCOUNT_HOST,
    REDIS_URL,
    ScriptedUpstream,
    unique_prefix,
)

LOAD = Path(__file__).with_name("upstream_load.py")
AMO_LIMIT = 7

pytestmark = pytest.mark.slow


async def run_processes(
    base_url: str, *, processes: int, clients: int, requests: int, redis_url: str
) -> list[dict[str, Any]]:
    start_at = time.time() + 1.5  # every process starts sending at the same moment
    prefix = unique_prefix()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(LOAD),
            "--base-url",
            base_url,
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


@pytest.mark.redis
async def test_fifty_clients_in_two_processes_sharing_redis_never_get_a_429() -> None:
    async with ScriptedUpstream(rate_limit=AMO_LIMIT).running() as amo:
        results = await run_processes(
            amo.base_url, processes=2, clients=25, requests=2, redis_url=REDIS_URL
        )
    assert [r["statuses"] for r in results] == [{"200": 50}, {"200": 50}]
    assert [r.status for r in amo.log].count(429) == 0
    assert len(amo.log) == 100


async def test_fifty_clients_in_one_process_without_redis_never_get_a_429() -> None:
    async with ScriptedUpstream(rate_limit=AMO_LIMIT).running() as amo:
        (result,) = await run_processes(
            amo.base_url, processes=1, clients=50, requests=1, redis_url=""
        )
    assert result["statuses"] == {"200": 50}
    assert [r.status for r in amo.log].count(429) == 0
