"""UpstreamClient against a real HTTP server whose answers each test scripts.

For answers the emulator cannot give; the rest is in test_upstream_emulator.py.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from foryou.integrations.amocrm.errors import (
    AmoBadResponse,
    AmoBlocked,
    AmoRateLimited,
    AmoTimeout,
    AmoUnavailable,
    to_app_error,
)
from foryou.upstream import (
    InProcessCircuit,
    InProcessRateLimiter,
    RedisCircuit,
    RedisRateLimiter,
    RetryPolicy,
    UpstreamClient,
    UpstreamMetrics,
)
from redis.asyncio import Redis
from upstream.upstream_support import BLOCK_PAGE, Reply, ScriptedUpstream

from scripts.harness_constants import ACCOUNT_HOST, REDIS_URL

HOST = {"Host": ACCOUNT_HOST}


def make_client(http: httpx.AsyncClient, metrics: UpstreamMetrics, **policy: Any) -> UpstreamClient:
    return UpstreamClient(
        http,
        InProcessRateLimiter(rate=50, burst=5),
        InProcessCircuit(block_seconds=60),
        RetryPolicy(**policy),
        metrics,
    )


def sample(metrics: UpstreamMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_ok_answers_and_client_errors_are_returned(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(200), Reply(204, b""), Reply(400), Reply(401), Reply(404))
    statuses = [
        (
            await client.request(
                "GET", f"{upstream.base_url}/api/v4/leads/{n}", account_key="1", headers=HOST
            )
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 204, 400, 401, 404]
    assert len(upstream.log) == 5
    assert {r.host for r in upstream.log} == {ACCOUNT_HOST}
    # Labels carry a path template, never the account or an id.
    assert (
        sample(
            metrics,
            "foryou_upstream_requests_total",
            method="GET",
            path="/api/v4/leads/{id}",
            status="401",
        )
        == 1
    )


async def test_redirects_are_returned_not_followed(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(307, b"", {"Location": f"{upstream.base_url}/elsewhere"}))
    response = await client.request(
        "POST", f"{upstream.base_url}/oauth2/access_token", account_key="1", json={"a": 1}
    )
    assert response.status_code == 307
    assert [r.path for r in upstream.log] == ["/oauth2/access_token"]


async def test_at_most_three_attempts_then_unavailable_with_retry_after(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(*[Reply(503, headers={"Retry-After": "0"})] * 3, Reply(200))
    with pytest.raises(AmoUnavailable) as failed:
        await client.request("GET", f"{upstream.base_url}/api/v4/account", account_key="1")
    assert len(upstream.log) == 3
    assert to_app_error(failed.value).status_code == 503
    assert failed.value.upstream_status == 503
    assert failed.value.retry_after_header == "1"


async def test_gateway_timeout_maps_to_504(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics, max_attempts=1)
    upstream.queue(Reply(504))
    with pytest.raises(AmoTimeout) as failed:
        await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    assert to_app_error(failed.value).status_code == 504


async def test_connect_failures_are_retried_even_for_post_since_nothing_was_sent(
    http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        client = make_client(http, metrics)
        with pytest.raises(AmoUnavailable) as failed:
            await client.request("POST", f"http://127.0.0.1:{port}/x", account_key="1", json={})
    assert failed.value.outcome_unknown is False
    assert sample(metrics, "foryou_upstream_retries_total", reason="amo_unavailable") == 2
    assert (
        sample(
            metrics,
            "foryou_upstream_requests_total",
            method="POST",
            path="/x",
            status="connect_error",
        )
        == 3
    )


async def test_retry_after_http_date_is_honoured(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    not_before = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    upstream.queue(
        Reply(503, headers={"Retry-After": format_datetime(not_before, usegmt=True)}), Reply(200)
    )
    response = await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    assert response.status_code == 200
    assert upstream.log[1].ts >= not_before.timestamp()


async def test_a_429_pauses_every_caller_of_the_account(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(429, headers={"Retry-After": "1"}))
    with pytest.raises(AmoRateLimited) as limited:
        await client.request("POST", f"{upstream.base_url}/api/v4/leads", account_key="7", json=[])
    assert limited.value.retry_after == 1.0
    assert limited.value.retry_after_header == "1"
    # Another request for the same account waits out the pause before it is sent.
    await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="7")
    first, second = upstream.log
    assert second.ts - first.ts >= 1.0
    assert sample(metrics, "foryou_upstream_circuit_opens_total", reason="paused") == 1


async def test_a_long_retry_after_is_handed_back_not_waited(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(429, {"retry_after": 300}))
    with pytest.raises(AmoRateLimited) as limited:
        await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    assert limited.value.retry_after == 300
    assert len(upstream.log) == 1
    # The account stays paused: the next call fails at once without reaching amoCRM.
    with pytest.raises(AmoRateLimited):
        await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    assert len(upstream.log) == 1


async def test_block_page_opens_the_circuit_and_nothing_more_is_sent(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(403, BLOCK_PAGE))
    with pytest.raises(AmoBlocked) as blocked:
        await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="9")
    assert blocked.value.retry_after == 60
    assert to_app_error(blocked.value).status_code == 503
    for _ in range(5):
        with pytest.raises(AmoBlocked):
            await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="9")
    assert len(upstream.log) == 1
    # Other accounts are not affected.
    await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="10")
    assert len(upstream.log) == 2
    assert sample(metrics, "foryou_upstream_circuit_opens_total", reason="blocked") == 1


async def test_a_json_403_is_a_rights_refusal_not_a_block(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(403, {"title": "Forbidden", "detail": "Не хватает прав"}), Reply(200))
    response = await client.request("GET", f"{upstream.base_url}/api/v4/users", account_key="1")
    assert response.status_code == 403
    response = await client.request("GET", f"{upstream.base_url}/api/v4/users", account_key="1")
    assert response.status_code == 200


async def test_server_error_is_not_retried(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = make_client(http, metrics)
    upstream.queue(Reply(500), Reply(200))
    with pytest.raises(AmoBadResponse) as failed:
        await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    assert failed.value.upstream_status == 500
    assert to_app_error(failed.value).status_code == 502
    assert len(upstream.log) == 1


async def test_a_queue_longer_than_the_wait_limit_is_refused_without_sending(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics
) -> None:
    client = UpstreamClient(
        http,
        InProcessRateLimiter(rate=1, burst=1),
        InProcessCircuit(),
        RetryPolicy(max_queue_wait=0.5),
        metrics,
    )
    await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    with pytest.raises(AmoRateLimited) as limited:
        await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
    assert 0.5 < (limited.value.retry_after or 0) <= 1.0
    assert len(upstream.log) == 1


async def test_the_redis_circuit_stops_every_process(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics, prefix: str
) -> None:
    first: Redis = Redis.from_url(REDIS_URL)
    second: Redis = Redis.from_url(REDIS_URL)
    try:
        clients = [
            UpstreamClient(
                http,
                RedisRateLimiter(redis, 50, 5, prefix + "rl:"),
                RedisCircuit(redis, block_seconds=30, prefix=prefix + "circuit:"),
                RetryPolicy(),
                metrics,
            )
            for redis in (first, second)
        ]
        upstream.queue(Reply(403, BLOCK_PAGE))
        with pytest.raises(AmoBlocked):
            await clients[0].request("GET", f"{upstream.base_url}/api/v4/leads", account_key="5")
        with pytest.raises(AmoBlocked) as blocked:
            await clients[1].request("GET", f"{upstream.base_url}/api/v4/leads", account_key="5")
        assert 29 < (blocked.value.retry_after or 0) <= 30
        assert len(upstream.log) == 1
    finally:
        await first.aclose()
        await second.aclose()


async def test_no_call_is_made_when_the_shared_budget_is_unreachable(
    upstream: ScriptedUpstream, http: httpx.AsyncClient, metrics: UpstreamMetrics, prefix: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: Redis "is down"
        port = sock.getsockname()[1]
        dead: Redis = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
        client = UpstreamClient(
            http,
            RedisRateLimiter(dead, prefix=prefix + "rl:"),
            RedisCircuit(dead, prefix=prefix + "circuit:"),
            RetryPolicy(),
            metrics,
        )
        try:
            with pytest.raises(AmoUnavailable) as failed:
                await client.request("GET", f"{upstream.base_url}/api/v4/leads", account_key="1")
        finally:
            await dead.aclose()
    assert to_app_error(failed.value).status_code == 503
    assert failed.value.retry_after_header == "5"
    assert upstream.log == []
