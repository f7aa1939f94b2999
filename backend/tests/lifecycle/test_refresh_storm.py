"""Refresh storm over 4 real API processes: 10 brokers (every seeded amoCRM user of the
account, each linked to one ForYou user) with expired access tokens, 200 requests at once →
exactly 10 refresh grants at amoCRM, no failed request, no lost connection.
The emulator runs in strict mode (a refresh token works once)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from backend_support import Backend
from lifecycle.lifecycle_support import (
    assert_not_corrupt,
    connect_brokers,
    refresh_grants,
    rows,
    serve,
    set_columns,
)

from scripts.harness_constants import AMO, API

BROKERS = 10
REQUESTS = 200
PROCESSES = 4

pytestmark = pytest.mark.slow


async def test_refresh_storm_over_four_processes(
    make_backend: Any, emu: Any, database_url: str
) -> None:
    # Rate limits lifted on both sides: 200 calls in a second would otherwise meet amoCRM's
    # 7 rps, which is not what this measures (the upstream tests do).
    emu.control.settings(rate_limit=0)
    backend: Backend = await make_backend(amocrm_rate_limit=50)
    with serve(
        database_url,
        emu.base_url,
        workers=PROCESSES,
        wait=False,
        amocrm_rate_limit=50,
        amocrm_max_queue_wait_seconds=30,
        amocrm_timeout_seconds=10,
    ) as server:
        # The 4 processes start while the brokers connect through the in-process backend.
        headers = await connect_brokers(backend, emu, BROKERS)
        before = {row.id: row.version for row in await rows(backend)}
        await set_columns(backend, access_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
        for user in emu.control.users(account_subdomain="reforyou"):
            emu.control.expire_tokens(user["id"])
        emu.control.clear_requests()
        server.wait_ready()
        limits = httpx.Limits(max_connections=REQUESTS)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as http:
            answers = await asyncio.gather(
                *(
                    http.get(f"{API}/crm/pipelines", headers=headers[i % BROKERS])
                    for i in range(REQUESTS)
                )
            )
            statuses = [answer.status_code for answer in answers]
            assert statuses.count(200) == REQUESTS, statuses
            grants = refresh_grants(emu)
            assert len(grants) == BROKERS
            assert all(grant["status"] == 200 for grant in grants)
            # Every broker is still connected and their stored tokens work.
            for broker in headers:
                status = (await http.get(f"{AMO}/status", headers=broker)).json()["data"]
                assert status["state"] == "connected"
                assert (await http.get(f"{API}/crm/leads", headers=broker)).status_code in (
                    200,
                    204,
                )
            assert len(refresh_grants(emu)) == BROKERS
            metrics = (await http.get("/metrics")).text
    # /metrics merges the counts of all 4 processes.
    refreshed = re.search(r'foryou_token_refreshes_total\{outcome="refreshed"\} (\S+)', metrics)
    assert refreshed is not None, metrics[:2000]
    assert float(refreshed.group(1)) == BROKERS
    after = await rows(backend)
    assert {row.id: row.version for row in after} == {k: v + 1 for k, v in before.items()}
    for row in after:
        assert row.lease_owner is None
        assert_not_corrupt(backend, row)
