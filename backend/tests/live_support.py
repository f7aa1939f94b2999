"""Helpers of the live-update tests: a free port, a reader of one broker's event stream, an
app user connected to a seeded amoCRM user, and amoCRM read as its admin."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from backend_support import Backend, amo_user, connect

from scripts.harness_constants import ACCOUNT_HOST, API


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class StreamReader:
    """One broker's open event stream; `events` fills as frames arrive."""

    events: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, kind: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            found = [e for e in self.events if e["event"] == kind]
            if found:
                return found[0]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind} event; got {self.events}")


async def read_stream(
    url: str, headers: dict[str, str], params: dict[str, str] | None = None
) -> StreamReader:
    reader = StreamReader()

    async def run() -> None:
        async with (
            httpx.AsyncClient(timeout=30.0) as client,  # longer than a heartbeat
            client.stream(
                "GET", f"{url}{API}/events/stream", headers=headers, params=params
            ) as response,
        ):
            assert response.status_code == 200, await response.aread()
            assert response.headers["content-type"].startswith("text/event-stream")
            reader.opened.set()
            frame: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    continue
                if not line:
                    if frame:
                        reader.events.append(frame)
                    frame = {}
                    continue
                name, _, value = line.partition(": ")
                frame[name] = json.loads(value) if name == "data" else value

    reader.task = asyncio.create_task(run())
    await asyncio.wait_for(reader.opened.wait(), 10)
    return reader


async def stop(reader: StreamReader) -> None:
    assert reader.task is not None
    reader.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader.task


async def connected_user(backend: Backend, emu: Any, role: str, index: int = 0) -> dict[str, str]:
    email, _ = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu, role, index))
    return headers


def admin_get(emu: Any, path: str) -> Any:
    token = emu.token_for(amo_user(emu, "admin"))["access_token"]
    with emu.client() as http:
        response = http.get(
            f"https://{ACCOUNT_HOST}{path}", headers={"Authorization": f"Bearer {token}"}
        )
    return response.json() if response.status_code == 200 else None


def own_lead(emu: Any, amo_user_id: int) -> dict[str, Any]:
    body = admin_get(emu, f"/api/v4/leads?filter[responsible_user_id]={amo_user_id}&limit=5")
    lead: dict[str, Any] = body["_embedded"]["leads"][0]
    return lead


async def user_id_of(backend: Any, headers: dict[str, str]) -> uuid.UUID:
    me = await backend.client.get(f"{API}/auth/me", headers=headers)
    return uuid.UUID(me.json()["data"]["id"])
