"""UpstreamClient against the real amoCRM emulator: limits, blocks and faults it injects."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from amocrm_emulator.testing import RunningEmulator
from foryou.integrations.amocrm.errors import (
    AmoBlocked,
    AmoPaymentRequired,
    AmoTimeout,
    AmoUnavailable,
    to_app_error,
)
from foryou.upstream import (
    InProcessCircuit,
    InProcessRateLimiter,
    RetryPolicy,
    UpstreamClient,
    UpstreamMetrics,
)
from upstream.upstream_support import amo_emulator

from scripts.harness_constants import ACCOUNT_ID, AMO_API

# The client keys its limits and circuit by the account id, as text.
ACCOUNT_KEY = str(ACCOUNT_ID)


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with amo_emulator() as running:
        yield running


@pytest.fixture
def token(emulator: RunningEmulator) -> str:
    access_token: str = emulator.token_for("broker1@reforyou.example")["access_token"]
    return access_token


@pytest.fixture
async def amo_http(emulator: RunningEmulator, token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator.async_client(headers={"Authorization": f"Bearer {token}"}) as http:
        yield http


@pytest.fixture
def client(amo_http: httpx.AsyncClient, metrics: UpstreamMetrics) -> UpstreamClient:
    # A budget well above the emulator's, so that its limit is what the tests meet.
    return UpstreamClient(
        amo_http,
        InProcessRateLimiter(rate=50, burst=10),
        InProcessCircuit(block_seconds=30),
        RetryPolicy(),
        metrics,
    )


def logged(emulator: RunningEmulator, path: str, method: str = "GET") -> list[dict[str, Any]]:
    return emulator.control.requests(path=path, method=method)


async def settled_log(
    emulator: RunningEmulator, path: str, method: str, *, expected_at_least: int
) -> list[dict[str, Any]]:
    """The emulator logs a request when it finishes answering: wait until it has."""
    deadline = time.monotonic() + 10
    rows = logged(emulator, path, method)
    while len(rows) < expected_at_least and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        rows = logged(emulator, path, method)
    return rows


async def test_the_emulators_429_retry_after_is_honoured(
    emulator: RunningEmulator, client: UpstreamClient, amo_http: httpx.AsyncClient
) -> None:
    emulator.control.settings(rate_limit=1)
    # Someone else spends the account's only token for this second.
    assert (await amo_http.get(f"{AMO_API}/account")).status_code == 200
    response = await client.request("GET", f"{AMO_API}/account", account_key=ACCOUNT_KEY)
    assert response.status_code == 200
    first, refused, retried = logged(emulator, "/api/v4/account")
    assert (first["status"], refused["status"], retried["status"]) == (200, 429, 200)
    # The 429 said "Retry-After: 1"; the retry was not sent before that second was over.
    assert retried["ts"] - refused["ts"] >= 1.0


async def test_post_is_not_replayed_after_a_read_timeout(
    emulator: RunningEmulator, client: UpstreamClient
) -> None:
    # amoCRM creates the lead, then the answer is late: the outcome is unknown to us.
    emulator.control.fault("/api/v4/leads", method="POST", delay=2.0, after_processing=True)
    with pytest.raises(AmoTimeout) as failed:
        await client.request(
            "POST",
            f"{AMO_API}/leads",
            account_key=ACCOUNT_KEY,
            json=[{"name": "Квартира на Печерську"}],
            timeout=0.5,
        )
    assert failed.value.outcome_unknown is True
    assert to_app_error(failed.value).status_code == 504
    await asyncio.sleep(2.5)  # longer than the injected delay: any second POST would be logged
    assert len(await settled_log(emulator, "/api/v4/leads", "POST", expected_at_least=1)) == 1


async def test_get_is_retried_after_a_read_timeout(
    emulator: RunningEmulator, client: UpstreamClient
) -> None:
    emulator.control.fault("/api/v4/account", method="GET", delay=2.0)
    response = await client.request(
        "GET", f"{AMO_API}/account", account_key=ACCOUNT_KEY, timeout=0.5
    )
    assert response.status_code == 200
    assert len(await settled_log(emulator, "/api/v4/account", "GET", expected_at_least=2)) == 2


async def test_a_dropped_connection_on_post_is_reported_once(
    emulator: RunningEmulator, client: UpstreamClient
) -> None:
    emulator.control.fault("/api/v4/leads", method="POST", drop=True, after_processing=True)
    with pytest.raises(AmoUnavailable) as failed:
        await client.request(
            "POST", f"{AMO_API}/leads", account_key=ACCOUNT_KEY, json=[{"name": "Офіс на Подолі"}]
        )
    assert failed.value.outcome_unknown is True
    assert len(await settled_log(emulator, "/api/v4/leads", "POST", expected_at_least=1)) == 1


async def test_a_dropped_connection_on_get_is_retried(
    emulator: RunningEmulator, client: UpstreamClient
) -> None:
    emulator.control.fault("/api/v4/account", method="GET", drop=True)
    response = await client.request("GET", f"{AMO_API}/account", account_key=ACCOUNT_KEY)
    assert response.json()["id"] == ACCOUNT_ID
    assert len(await settled_log(emulator, "/api/v4/account", "GET", expected_at_least=2)) == 2


async def test_503_is_retried_for_get_and_not_for_post(
    emulator: RunningEmulator, client: UpstreamClient
) -> None:
    emulator.control.fault("/api/v4/account", method="GET", status=503, count=2)
    response = await client.request("GET", f"{AMO_API}/account", account_key=ACCOUNT_KEY)
    assert response.status_code == 200
    assert [r["status"] for r in logged(emulator, "/api/v4/account")] == [503, 503, 200]

    emulator.control.fault("/api/v4/leads", method="POST", status=503, count=2)
    with pytest.raises(AmoUnavailable):
        await client.request(
            "POST", f"{AMO_API}/leads", account_key=ACCOUNT_KEY, json=[{"name": "x"}]
        )
    assert [r["status"] for r in logged(emulator, "/api/v4/leads", "POST")] == [503]


async def test_payment_required_is_not_retried(
    emulator: RunningEmulator, client: UpstreamClient
) -> None:
    emulator.control.fault("/api/v4/account", method="GET", status=402, count=3)
    with pytest.raises(AmoPaymentRequired) as failed:
        await client.request("GET", f"{AMO_API}/account", account_key=ACCOUNT_KEY)
    assert to_app_error(failed.value).status_code == 402
    assert len(logged(emulator, "/api/v4/account")) == 1


async def test_an_account_block_opens_the_circuit_and_nothing_reaches_amocrm(
    emulator: RunningEmulator,
    client: UpstreamClient,
    amo_http: httpx.AsyncClient,
    metrics: UpstreamMetrics,
) -> None:
    # Someone without our limiter pushes the account over amoCRM's limit until it is blocked.
    emulator.control.settings(rate_limit=1, block_after=1, block_seconds=60)
    assert (await amo_http.get(f"{AMO_API}/account")).status_code == 200
    assert (await amo_http.get(f"{AMO_API}/account")).status_code == 403
    with pytest.raises(AmoBlocked) as blocked:
        await client.request("GET", f"{AMO_API}/leads", account_key=ACCOUNT_KEY)
    # amoCRM's Retry-After (60 s) is longer than our own block period (30 s): it wins.
    assert blocked.value.retry_after == 60
    assert blocked.value.retry_after_header == "60"
    before = len(emulator.control.requests())
    for _ in range(5):
        with pytest.raises(AmoBlocked):
            await client.request("GET", f"{AMO_API}/leads", account_key=ACCOUNT_KEY)
    with pytest.raises(AmoBlocked):
        await client.request(
            "POST", f"{AMO_API}/leads", account_key=ACCOUNT_KEY, json=[{"name": "x"}]
        )
    assert len(emulator.control.requests()) == before
    assert (
        metrics.registry.get_sample_value(
            "foryou_upstream_circuit_rejections_total", {"reason": "blocked"}
        )
        == 6
    )
