"""Transport fixes: a 402 is `amo_subscription_expired`, a rights refusal (JSON 403) never
blocks the account, only amoCRM's HTML block page does, and the code exchange and the API calls
of one account share one budget."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from backend_support import Backend, amo_user, connect
from foryou.integrations.amocrm.errors import AmoBlocked
from foryou.upstream import InProcessCircuit, InProcessRateLimiter, UpstreamClient
from foryou.upstream.metrics import UpstreamMetrics
from prometheus_client import CollectorRegistry

from scripts.harness_constants import ACCOUNT_HOST, API


async def test_an_ended_subscription_is_a_clear_402(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    headers = await backend.new_broker()
    await connect(backend, emu, headers, amo_user(emu))
    emu.control.fault("/api/v4/leads/pipelines", status=402, count=5)
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "amo_subscription_expired"
    # Not retried: one call reached amoCRM.
    assert len(emu.control.requests(path="/api/v4/leads/pipelines")) == 1


async def test_a_rights_refusal_does_not_block_the_account(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    headers = await backend.new_broker()
    # Connecting reads /api/v4/users/{id}, which amoCRM refuses a broker with a JSON 403.
    await connect(backend, emu, headers, amo_user(emu))
    refused = [row for row in emu.control.requests() if row["path"].startswith("/api/v4/users/")]
    assert refused
    assert {row["status"] for row in refused} == {403}
    upstream = backend.services.amocrm._transport._upstream
    assert (await upstream.circuit.state(ACCOUNT_HOST)).closed
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 200, response.text


async def test_the_exchange_and_api_calls_share_one_budget(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    headers = await backend.new_broker()
    await connect(backend, emu, headers, amo_user(emu))
    await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    limiter = backend.services.amocrm._transport._upstream.limiter
    assert isinstance(limiter, InProcessRateLimiter)
    # The exchange, the account and user reads and the CRM call were all booked under one key.
    assert list(limiter._tat) == [ACCOUNT_HOST]


def _client(handler: Any) -> UpstreamClient:
    return UpstreamClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        InProcessRateLimiter(rate=50),
        InProcessCircuit(),
        metrics=UpstreamMetrics(CollectorRegistry()),
    )


@pytest.mark.parametrize(
    ("headers", "body", "blocks"),
    [
        ({"content-type": "application/problem+json"}, b'{"detail":"no rights"}', False),
        ({}, b"", False),
        ({"content-type": "text/html"}, b"<html><h1>403 Forbidden</h1></html>", True),
        ({}, b"<html><h1>403 Forbidden</h1></html>", True),
    ],
)
async def test_only_the_html_block_page_opens_the_circuit(
    headers: dict[str, str], body: bytes, blocks: bool
) -> None:
    # An empty 403 cannot be produced by the emulator; a scripted answer stands in for it.
    client = _client(lambda request: httpx.Response(403, headers=headers, content=body))
    url = f"https://{ACCOUNT_HOST}/api/v4/users"
    if blocks:
        with pytest.raises(AmoBlocked):
            await client.request("GET", url, account_key=ACCOUNT_HOST)
    else:
        assert (await client.request("GET", url, account_key=ACCOUNT_HOST)).status_code == 403
    assert (await client.circuit.state(ACCOUNT_HOST)).closed is not blocks
    await client.http.aclose()
