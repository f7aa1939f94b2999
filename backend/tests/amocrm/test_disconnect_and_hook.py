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
import uvicorn
from backend_support import Backend, amo_user, connect
from fastapi import FastAPI
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmConnectionEvent
from sqlalchemy import select

from scripts.harness_constants import AMO, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


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
        account = str(user["account_id"])
        params = {"account_id": account, "client_uuid": CLIENT_ID, "signature": signature(account)}
        for expected in ("1 connection(s) revoked.", "0 connection(s) revoked."):
            response = await backend.client.get(f"{AMO}/hooks/disabled", params=params)
            assert response.json() == {"success": True, "message": expected}
        assert (await backend.status(headers))["reason"] == "integration_disabled"


async def test_hook_server_helper_speaks_http(backend: Backend) -> None:
    async with serving(backend.app) as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/healthz")).json() == {"status": "ok"}
