from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from foryou.upstream import UpstreamMetrics
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from upstream.upstream_support import ScriptedUpstream, unique_prefix

from scripts.harness_constants import REDIS_URL


@pytest.fixture
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    async with ScriptedUpstream().running() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError as exc:  # pragma: no cover - depends on the machine
        await client.aclose()
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
def prefix(redis: Redis) -> str:
    return unique_prefix()


@pytest.fixture
def metrics() -> UpstreamMetrics:
    return UpstreamMetrics(CollectorRegistry())
