"""One broker's copies and failures never reach another broker of the same account."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from backend_support import Backend, amo_user, connect, token_grants
from redis.asyncio import Redis

from scripts.harness_constants import API

PIPELINES = "/api/v4/leads/pipelines"


async def connected_pair(backend: Backend, emu: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Brokers 1 and 2 of one amoCRM account, each connected through the real flow."""
    brokers = []
    for index in (0, 1):
        email, _ = await backend.create_user()
        headers = await backend.login(email)
        await connect(backend, emu, headers, amo_user(emu, "broker", index))
        brokers.append(headers)
    return brokers[0], brokers[1]


async def until_taken(emu: Any) -> None:
    """Wait until the emulator has taken the injected fault (the request reached it)."""
    deadline = time.monotonic() + 5
    while emu.control.faults():
        assert time.monotonic() < deadline, "the request never reached amoCRM"
        await asyncio.sleep(0.02)


async def test_a_revoked_brokers_shared_fetch_costs_the_other_broker_nothing(
    backend: Backend, emu: Any
) -> None:
    revoked, healthy = await connected_pair(backend, emu)
    healthy_amo_id = amo_user(emu, "broker", 1)["id"]
    emu.control.revoke(amo_user(emu, "broker", 0)["id"])
    emu.control.clear_requests()
    # The revoked broker's read of the (cold) pipelines is slow, so the other broker's read
    # arrives while it is in flight and waits for it instead of asking amoCRM itself.
    emu.control.fault(PIPELINES, delay=1.0)
    first = asyncio.create_task(backend.client.get(f"{API}/crm/pipelines", headers=revoked))
    await until_taken(emu)
    second = asyncio.create_task(backend.client.get(f"{API}/crm/pipelines", headers=healthy))
    refused, served = await asyncio.gather(first, second)

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "amo_reauth_required"
    assert served.status_code == 200, served.text
    assert served.json()["data"]["items"]
    refreshes = token_grants(emu, "refresh_token")
    assert [row for row in refreshes if row["user_id"] == healthy_amo_id] == []
    assert len(refreshes) == 1, "only the revoked broker tried to refresh"
    assert (await backend.status(healthy))["state"] == "connected"
    assert (await backend.status(revoked))["state"] == "reauth_required"


@pytest.fixture(params=["local", "redis"])
async def crm_backend(request: pytest.FixtureRequest, make_backend: Any) -> AsyncIterator[Backend]:
    """A backend whose CRM copies live in process, or in Redis (as across replicas)."""
    if request.param == "local":
        yield await make_backend()
        return
    redis_url = os.environ.get("FORYOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    prefix = f"foryou-test:{uuid.uuid4().hex[:12]}:"
    yield await make_backend(redis_url=redis_url, redis_prefix=prefix)
    client: Redis = Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_a_lead_detail_copy_is_only_ever_its_brokers(
    crm_backend: Backend, emu: Any, amo_direct: Any
) -> None:
    owner, other = await connected_pair(crm_backend, emu)
    [mine] = amo_direct("broker", 0).all_leads({"limit": 1})[:1]
    assert mine["responsible_user_id"] == amo_user(emu, "broker", 0)["id"]
    # amoCRM itself hides the lead from the other broker.
    assert amo_direct("broker", 1).get(f"/api/v4/leads/{mine['id']}") is None

    opened = await crm_backend.client.get(f"{API}/crm/leads/{mine['id']}", headers=owner)
    assert opened.status_code == 200, opened.text
    emu.control.clear_requests()
    asked = await crm_backend.client.get(f"{API}/crm/leads/{mine['id']}", headers=other)
    assert asked.status_code == 404, asked.text
    assert asked.json()["error"]["code"] == "not_found"
    assert mine["name"] not in asked.text
    # The answer is amoCRM's verdict for this broker, not a copy kept for the owner.
    reads = emu.control.requests(path=f"/api/v4/leads/{mine['id']}")
    assert [row["user_id"] for row in reads] == [amo_user(emu, "broker", 1)["id"]]
    # The owner's copy is untouched by the refusal.
    again = await crm_backend.client.get(f"{API}/crm/leads/{mine['id']}", headers=owner)
    assert again.json() == opened.json()
