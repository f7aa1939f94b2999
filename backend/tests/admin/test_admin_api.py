"""`/admin/*`: ADMIN only; brokers with their connection state, timeline, unlink, reconnect
requests; app users created, blocked and unblocked."""

from __future__ import annotations

from typing import Any

import pytest
from backend_support import Backend, amo_user, connect
from foryou.auth.models import Role
from foryou.worker import KeepAliveWorker

from scripts.harness_constants import AMO, API

ADMIN = f"{API}/admin"
ENDPOINTS = [
    ("GET", "/brokers"),
    ("GET", "/brokers/00000000-0000-0000-0000-000000000001/events"),
    ("POST", "/brokers/00000000-0000-0000-0000-000000000001/unlink"),
    ("POST", "/brokers/00000000-0000-0000-0000-000000000001/request-reconnect"),
    ("GET", "/amo-crm/agency-connection"),
    ("POST", "/amo-crm/agency-connection"),
    ("POST", "/amo-crm/agency-connection/use-my-connection"),
    ("DELETE", "/amo-crm/agency-connection"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/00000000-0000-0000-0000-000000000001/block"),
    ("POST", "/users/00000000-0000-0000-0000-000000000001/unblock"),
]


async def test_only_admins_reach_admin_endpoints(backend: Backend) -> None:
    others = {role: await backend.new_broker(role=role) for role in Role if role != Role.ADMIN}
    admin = await backend.new_broker(role=Role.ADMIN)
    for method, path in ENDPOINTS:
        anonymous = await backend.client.request(method, f"{ADMIN}{path}")
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.json()["error"]["code"] == "unauthorized"
        for role, headers in others.items():
            refused = await backend.client.request(method, f"{ADMIN}{path}", headers=headers)
            assert refused.status_code == 403, (method, path, role)
            assert refused.json()["error"]["code"] == "forbidden"
    assert (await backend.client.get(f"{ADMIN}/brokers", headers=admin)).status_code == 200


async def test_brokers_states_filters_unlink_and_timeline(backend: Backend, emu: Any) -> None:
    admin = await backend.new_broker(role=Role.ADMIN)
    connected_email, connected_id = await backend.create_user(name="Connected Broker")
    connected = await backend.login(connected_email)
    await connect(backend, emu, connected, amo_user(emu))
    await backend.create_user(name="Newcomer")
    await backend.create_user(role=Role.CLIENT)

    listing = (await backend.client.get(f"{ADMIN}/brokers", headers=admin)).json()["data"]
    assert listing["total"] == 2
    assert listing["hasMore"] is False
    states = {row["name"]: row["state"] for row in listing["items"]}
    assert states == {"Connected Broker": "active", "Newcomer": "never_connected"}
    active = (
        await backend.client.get(f"{ADMIN}/brokers?state=active&q=connected", headers=admin)
    ).json()["data"]["items"]
    assert [row["userId"] for row in active] == [str(connected_id)]
    assert active[0]["amoUserId"] == amo_user(emu)["id"]
    assert active[0]["connectedSince"] is not None
    # Connecting is using the CRM; later use moves the mark on (recorded every half hour).
    assert active[0]["lastActiveAt"] == active[0]["connectedSince"]
    backend.clock.advance(3600)
    assert (await backend.client.get(f"{API}/crm/tasks", headers=connected)).status_code == 200
    listed = (await backend.client.get(f"{ADMIN}/brokers?state=active", headers=admin)).json()
    assert listed["data"]["items"][0]["lastActiveAt"] > active[0]["lastActiveAt"]
    never = next(row for row in listing["items"] if row["name"] == "Newcomer")
    assert never["lastActiveAt"] is None
    paged = (await backend.client.get(f"{ADMIN}/brokers?limit=1", headers=admin)).json()["data"]
    assert (len(paged["items"]), paged["hasMore"]) == (1, True)
    bad = await backend.client.get(f"{ADMIN}/brokers?state=sleeping", headers=admin)
    assert bad.status_code == 422

    unlinked = await backend.client.post(f"{ADMIN}/brokers/{connected_id}/unlink", headers=admin)
    assert unlinked.status_code == 200
    assert (await backend.status(connected))["state"] == "not_connected"
    crm = await backend.client.get(f"{API}/crm/pipelines", headers=connected)
    assert crm.json()["error"]["code"] == "amo_not_connected"
    events = (
        await backend.client.get(f"{ADMIN}/brokers/{connected_id}/events?limit=1", headers=admin)
    ).json()["data"]
    assert events["total"] == 2
    assert events["hasMore"] is True
    (latest,) = events["items"]
    me = (await backend.client.get(f"{API}/auth/me", headers=admin)).json()["data"]
    assert (latest["kind"], latest["actorUserId"]) == ("unlinked", me["id"])
    # The amoCRM user is free again: another app user connects it.
    other = await backend.new_broker()
    await connect(backend, emu, other, amo_user(emu))
    missing = await backend.client.get(
        f"{ADMIN}/brokers/00000000-0000-0000-0000-000000000001/events", headers=admin
    )
    assert missing.status_code == 404


async def test_reconnect_request_stands_until_the_broker_connects_again(
    backend: Backend, emu: Any
) -> None:
    admin = await backend.new_broker(role=Role.ADMIN)
    email, user_id = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu))
    backend.clock.advance(60)
    asked = await backend.client.post(
        f"{ADMIN}/brokers/{user_id}/request-reconnect",
        headers=admin,
        json={"note": "Your rights changed"},
    )
    assert asked.status_code == 200, asked.text
    status = await backend.status(headers)
    assert (status["reconnectRequested"], status["reconnectNote"]) == (True, "Your rights changed")
    row = (await backend.client.get(f"{ADMIN}/brokers?q={email}", headers=admin)).json()["data"]
    assert row["items"][0]["reconnectRequested"] is True
    backend.clock.advance(60)
    await connect(backend, emu, headers, amo_user(emu))
    status = await backend.status(headers)
    assert (status["reconnectRequested"], status["reconnectNote"]) == (False, None)


@pytest.mark.parametrize("given_password", [True, False])
async def test_created_broker_signs_in_and_blocking_ends_their_access(
    backend: Backend, emu: Any, given_password: bool
) -> None:
    admin = await backend.new_broker(role=Role.ADMIN)
    body: dict[str, Any] = {"email": "New.Broker@foryou.test", "name": "New Broker"}
    if given_password:
        body["password"] = "chosen-password-1"
    created = await backend.client.post(f"{ADMIN}/users", headers=admin, json=body)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    password = body.get("password") or data["oneTimePassword"]
    assert (data["oneTimePassword"] is None) == given_password
    assert data["user"]["role"] == "BROKER"
    assert data["user"]["email"] == "new.broker@foryou.test"
    again = await backend.client.post(f"{ADMIN}/users", headers=admin, json=body)
    assert again.json()["error"]["code"] == "email_taken"
    headers = await backend.login("new.broker@foryou.test", password)
    await connect(backend, emu, headers, amo_user(emu))
    user_id = data["user"]["id"]

    blocked = await backend.client.post(f"{ADMIN}/users/{user_id}/block", headers=admin)
    assert blocked.json()["data"]["status"] == "BLOCKED"
    for path in (f"{AMO}/status", f"{API}/crm/pipelines"):
        refused = await backend.client.get(path, headers=headers)
        assert refused.status_code == 401, path
    # The worker no longer keeps the blocked broker's connection alive.
    backend.clock.advance(86400)
    services = backend.services
    worker = KeepAliveWorker(
        db=services.db, tokens=services.tokens, clock=backend.clock, settings=services.settings
    )
    assert (await worker.run_once()).due == 0
    listed = (await backend.client.get(f"{ADMIN}/users?state=BLOCKED", headers=admin)).json()[
        "data"
    ]
    assert [row["id"] for row in listed["items"]] == [user_id]

    await backend.client.post(f"{ADMIN}/users/{user_id}/unblock", headers=admin)
    assert (await worker.run_once()).due == 1
    headers = await backend.login("new.broker@foryou.test", password)
    assert (await backend.client.get(f"{API}/crm/pipelines", headers=headers)).status_code == 200


async def test_an_admin_cannot_block_themself(backend: Backend) -> None:
    email, admin_id = await backend.create_user(role=Role.ADMIN)
    admin = await backend.login(email)
    refused = await backend.client.post(f"{ADMIN}/users/{admin_id}/block", headers=admin)
    assert refused.json()["error"]["code"] == "cannot_block_self"
