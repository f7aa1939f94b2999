"""Live-update fixtures: a backend served over real HTTP (amoCRM's webhooks must reach it,
and Server-Sent Events must stream)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import uvicorn
from backend_support import Backend


@dataclass
class Served:
    backend: Backend
    url: str


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Backend, int], Awaitable[Served]]]:
    """Serve a built backend's app on 127.0.0.1 (lifespan on) until the test ends."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(backend: Backend, port: int) -> Served:
        config = uvicorn.Config(backend.app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        servers.append((server, task))
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        return Served(backend, f"http://127.0.0.1:{port}")

    yield start
    for server, task in servers:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
