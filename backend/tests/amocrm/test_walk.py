"""The scripted walk: a broker connects their own amoCRM user, sees it, disconnects."""

from __future__ import annotations

from typing import Any

from backend_support import Backend, query_of
from foryou.auth.models import Role

from scripts.harness_constants import AMO


async def test_broker_connects_and_disconnects(backend: Backend, emu: Any) -> None:
    amo_broker = emu.control.users(role="broker", account_subdomain="reforyou")[0]
    # amoCRM documents /api/v4/users as admin-only; where a user may read their own record
    # (the emulator's users_self_read switch) the status shows the broker's amoCRM name.
    emu.control.settings(users_self_read=True)
    email, _ = await backend.create_user(role=Role.BROKER, name="Olena")
    headers = await backend.login(email)
    assert (await backend.status(headers))["state"] == "not_connected"

    authorize_url = await backend.authorize(headers)
    consent_url, binder = await backend.start(authorize_url)
    assert query_of(consent_url)["client_id"]
    location = emu.consent(consent_url, amo_broker["login"], amo_broker["password"])
    response, back = await backend.callback(location, binder)

    assert back["status"] == "pending"
    assert response.headers["location"].startswith("foryouapp://amo-crm/callback?")
    # Nothing is connected until the app redeems the ticket.
    assert (await backend.status(headers))["state"] == "not_connected"
    assert (await backend.finish(headers, back))["state"] == "connected"
    status = await backend.status(headers)
    assert status["state"] == "connected"
    assert status["connected"] is True
    assert status["hasTokens"] is True
    assert status["domain"] == "reforyou.amocrm.ru"
    assert status["accountId"] == amo_broker["account_id"]
    assert status["amoUserId"] == amo_broker["id"]
    assert status["amoUserName"] == amo_broker["name"]
    assert status["connectedAt"] is not None

    response = await backend.client.post(f"{AMO}/disconnect", headers=headers)
    assert response.status_code == 200
    response = await backend.client.post(f"{AMO}/disconnect", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "amoCRM disconnected."}
    assert (await backend.status(headers))["state"] == "not_connected"


async def test_broker_name_unknown_when_amocrm_keeps_users_private(
    backend: Backend, emu: Any
) -> None:
    amo_broker = emu.control.users(role="broker", account_subdomain="reforyou")[0]
    headers = await backend.new_broker()
    consent_url, binder = await backend.start(await backend.authorize(headers))
    location = emu.consent(consent_url, amo_broker["login"], amo_broker["password"])
    _, back = await backend.callback(location, binder)
    await backend.finish(headers, back)
    status = await backend.status(headers)
    assert status["amoUserId"] == amo_broker["id"]
    assert status["amoUserName"] is None
