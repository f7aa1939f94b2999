"""Read-then-write work under concurrency: no request fails because another one holds the
database's write lock (SQLite's `database is locked`), on a real `foryou serve` process."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from backend_support import Backend
from lifecycle.lifecycle_support import serve

from scripts.harness_constants import AMO

CALLS = 80
PARALLEL = 8


async def test_authorize_and_disconnect_in_parallel_never_fail(
    make_backend: Any, emu: Any, database_url: str
) -> None:
    backend: Backend = await make_backend()
    with serve(database_url, emu.base_url, workers=2, wait=True) as server:
        brokers = [await backend.new_broker(), await backend.new_broker()]
        gate = asyncio.Semaphore(PARALLEL)
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:

            async def one(index: int) -> int:
                # Alternating per broker: authorize counts the last minute's flows and then
                # writes one; disconnect reads the connection and then writes.
                path = "/authorize" if index % 4 < 2 else "/disconnect"
                async with gate:
                    response = await http.post(f"{AMO}{path}", headers=brokers[index % 2])
                return response.status_code

            statuses = await asyncio.gather(*(one(i) for i in range(CALLS)))
        assert [status for status in statuses if status >= 500] == [], server.log()[-3000:]
        # Past the per-minute allowance authorize says 429; everything else succeeded.
        assert set(statuses) <= {200, 429}, statuses
