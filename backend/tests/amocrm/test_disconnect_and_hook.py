"""Disconnect (wipes tokens, sticks, idempotent) and amoCRM's signed disable hook."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from backend_support import Backend, amo_user, connect
from fastapi import FastAPI
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmConnectionEvent
from sqlalchemy import select

from scripts.harness_constants import AMO, API, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """Serve the app over real HTTP on a free loopback port (amoCRM has to reach it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def signature(account_id: str, client_uuid: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> str:
    message = f"{client_uuid}|{account_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def events(backend: Backend) -> list[tuple[str, str | None]]:
    async with backend.services.db.transaction() as session:
        result = await session.execute(
            select(AmoCrmConnectionEvent).order_by(AmoCrmConnectionEvent.created_at)
        )
        return [(event.kind, event.reason) for event in result.scalars()]


class TestDisconnect:
    async def test_disconnect_wipes_tokens_and_sticks(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        await connect(backend, emu, headers, amo_user(emu))
        response = await backend.client.post(f"{AMO}/disconnect", headers=headers)
        assert response.json() == {"success": True, "message": "amoCRM disconnected."}
        async with backend.services.db.transaction() as session:
            [row] = (await session.execute(select(AmoCrmConnection))).scalars()
        assert row.status == "disconnected"
        assert row.access_token_enc is None
        assert row.refresh_token_enc is None
        assert row.token_key_id is None
        status = await backend.status(headers)
        assert status == {
            "connected": False,
            "hasTokens": False,
            "domain": None,
            "accountId": None,
            "state": "not_connected",
            "reason": None,
            "amoUserId": None,
            "amoUserName": None,
            "connectedAt": None,
            "reconnectRequested": False,
            "reconnectNote": None,
        }
        crm = await backend.client.get("/api/v1/crm/pipelines", headers=headers)
        assert crm.status_code == 409
        assert crm.json()["error"]["code"] == "amo_not_connected"
        assert [kind for kind, _ in await events(backend)] == ["connected", "disconnected"]

    async def test_disconnect_is_idempotent(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        for _ in range(2):
            response = await backend.client.post(f"{AMO}/disconnect", headers=headers)
            assert response.status_code == 200
        await connect(backend, emu, headers, amo_user(emu))
        for _ in range(2):
            await backend.client.post(f"{AMO}/disconnect", headers=headers)
        assert [kind for kind, _ in await events(backend)] == ["connected", "disconnected"]


class TestDisableHook:
    async def test_disable_hook_with_a_good_signature_revokes_the_accounts_connections(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)
        async with serving(backend.app) as url:
            emu.control.register_integration(
                CLIENT_ID,
                CLIENT_SECRET,
                REDIRECT_URI,
                disable_hook_url=f"{url}/api/v1/integrations/amo-crm/hooks/disabled",
            )
            # The control call blocks until amoCRM's hook has been answered by this loop.
            result = await asyncio.to_thread(
                emu.control.send_disable_hook, CLIENT_ID, user["account_id"]
            )
        assert result["status"] == 200
        status = await backend.status(headers)
        assert status["state"] == "reauth_required"
        assert status["reason"] == "integration_disabled"
        assert status["hasTokens"] is False
        assert ("revoked", "integration_disabled") in await events(backend)

    async def test_disable_hook_with_a_bad_signature_changes_nothing(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)
        account = str(user["account_id"])
        forged = [
            {"account_id": account, "client_uuid": CLIENT_ID, "signature": "0" * 64},
            {
                "account_id": account,
                "client_uuid": CLIENT_ID,
                "signature": signature(account, secret="guessed"),
            },
            {
                "account_id": account,
                "client_uuid": "another-client",
                "signature": signature(account, client_uuid="another-client"),
            },
        ]
        for params in forged:
            response = await backend.client.get(f"{AMO}/hooks/disabled", params=params)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_signature"
        assert (await backend.status(headers))["state"] == "connected"
        assert [kind for kind, _ in await events(backend)] == ["connected"]

    async def test_disable_hook_is_idempotent(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)
        switch_off_in_amocrm(emu, user["account_id"])
        for expected in ("1 connection(s) revoked.", "0 connection(s) revoked."):
            response = await backend.client.get(
                f"{AMO}/hooks/disabled", params=hook_params(user["account_id"])
            )
            assert response.json() == {"success": True, "message": expected}
        assert (await backend.status(headers))["reason"] == "integration_disabled"
        assert [kind for kind, _ in await events(backend)] == ["connected", "revoked"]


def hook_params(account_id: int) -> dict[str, str]:
    account = str(account_id)
    return {"account_id": account, "client_uuid": CLIENT_ID, "signature": signature(account)}


def switch_off_in_amocrm(emu: Any, account_id: int) -> None:
    """The integration is switched off in amoCRM (its tokens there die), and the hook is lost:
    its URL points at a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    emu.control.register_integration(
        CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, disable_hook_url=closed
    )
    assert emu.control.send_disable_hook(CLIENT_ID, account_id)["status"] is None


class TestReplayedDisableHook:
    """The hook's signature never changes, so every hook is checked with amoCRM first."""

    async def test_a_replayed_hook_while_the_integration_works_revokes_nothing(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)
        for _ in range(3):
            response = await backend.client.get(
                f"{AMO}/hooks/disabled", params=hook_params(user["account_id"])
            )
            assert response.status_code == 200
            assert response.json() == {
                "success": True,
                "message": "amoCRM reports the integration active; nothing was revoked.",
            }
        assert (await backend.status(headers))["state"] == "connected"
        assert (
            await events(backend)
            == [("connected", None)] + [("hook_unconfirmed", "token_works")] * 3
        )
        crm = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert crm.status_code == 200

    async def test_a_late_hook_spares_a_broker_who_reconnected_after_the_disable(
        self, backend: Backend, emu: Any
    ) -> None:
        early, late = await backend.new_broker(), await backend.new_broker()
        early_user, late_user = amo_user(emu, index=0), amo_user(emu, index=1)
        await connect(backend, emu, early, early_user)
        await connect(backend, emu, late, late_user)
        switch_off_in_amocrm(emu, early_user["account_id"])
        await connect(backend, emu, late, late_user)  # switched on again by reconnecting
        response = await backend.client.get(
            f"{AMO}/hooks/disabled", params=hook_params(early_user["account_id"])
        )
        assert response.json() == {"success": True, "message": "1 connection(s) revoked."}
        assert (await backend.status(early))["reason"] == "integration_disabled"
        assert (await backend.status(late))["state"] == "connected"
        replay = await backend.client.get(
            f"{AMO}/hooks/disabled", params=hook_params(early_user["account_id"])
        )
        assert replay.status_code == 200
        assert (await backend.status(late))["state"] == "connected"
        kinds = [kind for kind, _ in await events(backend)]
        assert kinds.count("revoked") == 1
        assert kinds.count("hook_unconfirmed") == 2

    @pytest.mark.parametrize("fault_status", [500, 503, 429])
    async def test_no_verdict_from_amocrm_changes_nothing_and_asks_for_a_retry(
        self, backend: Backend, emu: Any, fault_status: int
    ) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)
        switch_off_in_amocrm(emu, user["account_id"])
        emu.control.fault("/api/v4/account", status=fault_status, count=10)
        response = await backend.client.get(
            f"{AMO}/hooks/disabled", params=hook_params(user["account_id"])
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "amo_upstream_unavailable"
        assert int(response.headers["Retry-After"]) >= 1
        assert (await backend.status(headers))["hasTokens"] is True
        assert await events(backend) == [
            ("connected", None),
            ("hook_unconfirmed", "no_verdict"),
        ]
        emu.control.clear_faults()
        retried = await backend.client.get(
            f"{AMO}/hooks/disabled", params=hook_params(user["account_id"])
        )
        assert retried.json() == {"success": True, "message": "1 connection(s) revoked."}

    async def test_the_amocrm_emulator_kills_tokens_when_the_integration_is_disabled(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)
        switch_off_in_amocrm(emu, user["account_id"])
        crm = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert crm.status_code == 409
        assert crm.json()["error"]["code"] == "amo_reauth_required"


class TestMalformedHook:
    @pytest.mark.parametrize(
        "override",
        [
            {"signature": "é" * 64},
            {"signature": "é"},
            {"signature": "g" * 64},
            {"signature": "0" * 63},
            {"signature": "0" * 65},
            {"account_id": "12a"},
            {"account_id": "１２"},
            {"account_id": "²"},
            {"account_id": "-1"},
            {"account_id": "9" * 19},
            {"client_uuid": "é"},
            {"client_uuid": "x" * 65},
            {"client_uuid": ""},
            {"account_id": None},
            {"client_uuid": None},
            {"signature": None},
        ],
    )
    async def test_a_malformed_parameter_gets_a_4xx(
        self, backend: Backend, emu: Any, override: dict[str, str | None]
    ) -> None:
        params = {**hook_params(amo_user(emu)["account_id"]), **override}
        query = {name: value for name, value in params.items() if value is not None}
        response = await backend.client.get(f"{AMO}/hooks/disabled", params=query)
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["success"] is False
        assert response.json()["error"]["code"] in {"validation_error", "invalid_signature"}

    async def test_the_hook_is_throttled_per_address(self, backend: Backend, emu: Any) -> None:
        params = {**hook_params(amo_user(emu)["account_id"]), "signature": "0" * 64}
        statuses = [
            (await backend.client.get(f"{AMO}/hooks/disabled", params=params)).status_code
            for _ in range(31)
        ]
        assert statuses == [401] * 30 + [429]


async def test_hook_server_helper_speaks_http(backend: Backend) -> None:
    async with serving(backend.app) as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/healthz")).json() == {"status": "ok"}
