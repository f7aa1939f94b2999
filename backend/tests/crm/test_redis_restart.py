"""A Redis restart costs requests only while Redis is down, never after it is back."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from backend_support import Backend, amo_user, connect, token_grants
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmConnectionEvent
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from scripts.harness_constants import API


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A redis-server process of the test's own, without persistence, that can be restarted."""

    def __init__(self, tmp: str) -> None:
        self.port = _free_port()
        self.tmp = tmp
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.tmp,
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError, RedisError):  # not accepting yet
                if Redis(port=self.port, socket_timeout=0.5).ping():
                    return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Any) -> Iterator[RedisServer]:
    server = RedisServer(str(tmp_path))
    server.start()
    yield server
    if server.process is not None:
        server.stop()


async def test_requests_succeed_as_soon_as_redis_is_back(
    make_backend: Any, emu: Any, redis_server: RedisServer
) -> None:
    backend: Backend = await make_backend(redis_url=redis_server.url)
    email, _ = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu, "broker", 0))

    async def burst(count: int) -> list[int]:
        gate = asyncio.Semaphore(8)

        async def one(index: int) -> int:
            async with gate:
                # Distinct pages: each is a cache miss and a call through the shared budget.
                response = await backend.client.get(
                    f"{API}/crm/leads", headers=headers, params={"q": f"restart-{index}"}
                )
                return response.status_code

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    assert set(await burst(16)) == {200}  # the pool now holds several connections

    redis_server.stop()
    during = await burst(4)
    assert all(status in (200, 503) for status in during), during
    redis_server.start()

    after = await burst(24)
    assert after.count(200) == 24, after


async def test_a_refresh_held_back_by_a_redis_outage_is_no_refresh_failure(
    make_backend: Any, emu: Any, redis_server: RedisServer
) -> None:
    """Without Redis no request goes to amoCRM; that says nothing about the tokens, so the
    broker's refresh is neither backed off nor suspected of a lost rotation."""
    backend = await make_backend(redis_url=redis_server.url)
    email, _ = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu, "broker", 0))
    backend.clock.advance(86400 - 600)  # due for refresh, still valid at amoCRM
    refreshes_before = len(token_grants(emu, "refresh_token"))

    redis_server.stop()
    during = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert during.status_code == 503, during.text
    assert during.json()["error"]["code"] == "amo_upstream_unavailable"
    assert int(during.headers["Retry-After"]) >= 1
    async with backend.services.db.transaction() as session:
        [row] = (await session.execute(select(AmoCrmConnection))).scalars()
        kinds = (await session.execute(select(AmoCrmConnectionEvent.kind))).scalars().all()
    assert row.refresh_failures == 0
    assert row.refresh_retry_at is None
    assert row.refresh_started_at is None  # no rotation may have been lost
    assert row.lease_owner is None
    assert "refresh_failed" not in kinds
    assert len(token_grants(emu, "refresh_token")) == refreshes_before

    redis_server.start()
    after = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert after.status_code == 200, after.text
    assert len(token_grants(emu, "refresh_token")) == refreshes_before + 1
