"""One user can never see or change another user's connection."""

from __future__ import annotations

from typing import Any

from backend_support import Backend, amo_user, connect
from foryou.integrations.amocrm.models import AmoCrmConnection
from sqlalchemy import select

from scripts.harness_constants import AMO, API


async def test_user_a_cannot_see_or_disconnect_user_b(backend: Backend, emu: Any) -> None:
    alice = await backend.new_broker()
    bob = await backend.new_broker()
    await connect(backend, emu, bob, amo_user(emu, index=1))
    async with backend.services.db.transaction() as session:
        [before] = (await session.execute(select(AmoCrmConnection))).scalars()

    # Alice sees her own (absent) connection, never Bob's, whatever she sends along.
    status = await backend.client.get(
        f"{AMO}/status", headers=alice, params={"user_id": str(before.user_id)}
    )
    assert status.json()["data"]["state"] == "not_connected"
    crm = await backend.client.get(f"{API}/crm/leads", headers=alice)
    assert crm.json()["error"]["code"] == "amo_not_connected"
    response = await backend.client.post(f"{AMO}/disconnect", headers=alice)
    assert response.status_code == 200
    refused = await backend.client.post(
        f"{AMO}/disconnect", headers=alice, json={"userId": str(before.user_id)}
    )
    assert refused.status_code in (200, 422)

    async with backend.services.db.transaction() as session:
        [after] = (await session.execute(select(AmoCrmConnection))).scalars()
    assert after.version == before.version
    assert after.access_token_enc == before.access_token_enc
    assert (await backend.status(bob))["state"] == "connected"


async def test_two_brokers_each_get_their_own_amocrm_user(backend: Backend, emu: Any) -> None:
    first, second = amo_user(emu, index=0), amo_user(emu, index=1)
    alice = await backend.new_broker()
    bob = await backend.new_broker()
    await connect(backend, emu, alice, first)
    await connect(backend, emu, bob, second)
    assert (await backend.status(alice))["amoUserId"] == first["id"]
    assert (await backend.status(bob))["amoUserId"] == second["id"]
    alice_leads = (await backend.client.get(f"{API}/crm/leads", headers=alice)).json()["data"]
    bob_leads = (await backend.client.get(f"{API}/crm/leads", headers=bob)).json()["data"]
    assert {lead["responsibleUserId"] for lead in alice_leads["items"]} == {first["id"]}
    assert {lead["responsibleUserId"] for lead in bob_leads["items"]} == {second["id"]}
