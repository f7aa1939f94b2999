"""Warm caches: the worker reads, with budget nobody is waiting for, the first screens of the
brokers who worked within the day, so their first open at nine costs amoCRM nothing; it never
warms copies that would live seconds, and gives way when brokers are waiting for the budget.
A broker's activity is written to their connection at most every half hour."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from backend_support import Backend
from crm.conftest import ConnectFn, api_requests, get_data
from foryou.crm import repository
from foryou.crm.activity import ACTIVE_SECONDS
from foryou.integrations.amocrm.tokens import UsableToken
from live_support import admin_get, connected_user

from scripts.harness_constants import API


async def first_screens(backend: Backend, headers: dict[str, str]) -> None:
    """What the app asks for when the CRM tab opens, exactly as it asks."""
    pipelines = await get_data(backend, headers, "/crm/pipelines")
    main = next(p for p in pipelines["items"] if p["isMain"])
    await get_data(
        backend, headers, "/crm/leads", pipelineId=main["id"], mine="true", page=1, limit=25
    )
    await get_data(backend, headers, "/crm/tasks")


async def test_a_warmed_broker_opens_the_crm_tab_without_an_amocrm_call(
    backend: Backend, emu: Any
) -> None:
    await connected_user(backend, emu, "admin")  # registers the webhook: changes reach us
    broker = await connected_user(backend, emu, "broker", 0)
    worker = backend.services.keep_alive_worker(embedded=True)
    counts = await worker.run_once()
    assert counts.warmed == 2  # the admin and the broker both connected today
    assert api_requests(emu, path="/api/v4/leads")

    emu.control.clear_requests()
    await first_screens(backend, broker)
    assert api_requests(emu) == []

    # Another run finds everything warm: no read of leads or tasks again.
    await worker.run_once()
    assert api_requests(emu, path="/api/v4/leads") == []
    assert api_requests(emu, path="/api/v4/tasks") == []


async def test_no_warming_of_copies_that_would_live_seconds(backend: Backend, emu: Any) -> None:
    # No admin (no webhook) and nobody watching: nothing follows amoCRM's changes.
    await connected_user(backend, emu, "broker", 0)
    emu.control.clear_requests()
    counts = await backend.services.keep_alive_worker(embedded=True).run_once()
    assert counts.warmed == 0
    assert api_requests(emu, path="/api/v4/leads") == []


async def test_warming_gives_way_while_brokers_wait_for_the_budget(
    backend: Backend, emu: Any, connected: ConnectFn
) -> None:
    headers = await connected()
    account_id = admin_get(emu, "/api/v4/account")["id"]
    crm = backend.services.crm
    await crm.catalog.mark_followed(account_id, 300)
    me = await backend.client.get(f"{API}/auth/me", headers=headers)
    broker_id = uuid.UUID(me.json()["data"]["id"])
    emu.control.clear_requests()

    async def read_account(token: UsableToken) -> None:
        await crm.gateway.get(token, "/api/v4/account")

    # Thirty reads queue for the budget (about 4.6 s of slots at 6.5 per second).
    load = [asyncio.create_task(crm.gateway.as_broker(broker_id, read_account)) for _ in range(30)]
    await asyncio.sleep(0.5)
    counts = await backend.services.keep_alive_worker(embedded=True).run_once()
    assert (counts.warmed, api_requests(emu, path="/api/v4/leads")) == (0, [])
    await asyncio.gather(*load)
    # The queue gone, the next run warms.
    counts = await backend.services.keep_alive_worker(embedded=True).run_once()
    assert counts.warmed == 1
    assert api_requests(emu, path="/api/v4/leads")


async def test_activity_is_written_at_most_every_half_hour_and_warming_is_not_activity(
    backend: Backend, emu: Any, connected: ConnectFn
) -> None:
    headers = await connected()
    db = backend.services.db

    async def last_active() -> Any:
        async with db.transaction() as session:
            rows = await repository.recently_active(session, backend.clock.now().replace(year=2000))
        (row,) = rows
        return row[4]

    connected_at = await last_active()  # connecting is using the CRM
    backend.clock.advance(60)
    await get_data(backend, headers, "/crm/tasks")
    first = await last_active()
    assert first > connected_at
    backend.clock.advance(600)
    await get_data(backend, headers, "/crm/tasks")
    assert await last_active() == first
    backend.clock.advance(ACTIVE_SECONDS)
    await get_data(backend, headers, "/crm/tasks")
    assert await last_active() > first
