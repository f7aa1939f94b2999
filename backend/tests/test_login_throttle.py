"""Password guessing: login attempts are throttled per account and per client address."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from backend_support import Backend
from foryou.client_address import client_address, parse_networks

from scripts.harness_constants import API, PASSWORD

REDIS_URL = os.environ.get("FORYOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Short penalties so that the tests can wait them out; production uses the defaults.
QUICK: dict[str, Any] = {
    "login_attempts_per_account": 5,
    "login_attempts_per_address": 12,
    "login_penalty_seconds": 1.0,
    "login_account_max_penalty_seconds": 2.0,
    "login_address_max_penalty_seconds": 60.0,
}


def client_from(backend: Backend, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=backend.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def attempt(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"email": email, "password": password})


async def guess_in_parallel(
    client: httpx.AsyncClient, email: str, guesses: int, parallel: int = 8
) -> list[httpx.Response]:
    gate = asyncio.Semaphore(parallel)

    async def one(index: int) -> httpx.Response:
        async with gate:
            return await attempt(client, email, f"wrong-{index}")

    return list(await asyncio.gather(*(one(i) for i in range(guesses))))


async def test_guessing_is_refused_after_a_few_attempts(backend: Backend) -> None:
    email, _ = await backend.create_user()

    responses = await guess_in_parallel(backend.client, email, 60)

    statuses = Counter(response.status_code for response in responses)
    assert statuses[401] == 5, statuses
    assert statuses[429] == 55, statuses
    refused = next(response for response in responses if response.status_code == 429)
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert refused.json()["error"]["requestId"] != "-"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    # While held back, even the right password is not checked: a guess cannot be confirmed.
    right = await attempt(backend.client, email.upper(), PASSWORD)
    assert right.status_code == 429


async def test_the_real_broker_gets_in_from_another_address_and_success_resets(
    make_backend: Any,
) -> None:
    backend = await make_backend(**QUICK)
    email, _ = await backend.create_user()
    async with (
        client_from(backend, "203.0.113.7") as attacker,
        client_from(backend, "198.51.100.20") as broker,
    ):
        first = await guess_in_parallel(attacker, email, 7)
        assert Counter(r.status_code for r in first) == {401: 5, 429: 2}
        assert (await attempt(broker, email, PASSWORD)).status_code == 429

        # The account's penalty is short (capped): the broker is in once it has passed.
        await asyncio.sleep(1.1)
        assert (await attempt(broker, email, PASSWORD)).status_code == 200

        # The success cleared the account: five fresh attempts before the next 429.
        again = [await attempt(broker, email, "typo") for _ in range(6)]
        assert [r.status_code for r in again] == [401] * 5 + [429]

        # Spraying other accounts: one guess each, until the address has used up its own
        # twelve attempts; the account it is refused on is still open to its broker.
        emails = [(await backend.create_user())[0] for _ in range(6)]
        sprayed = [await attempt(attacker, other, "guess") for other in emails]
        assert [r.status_code for r in sprayed] == [401] * 5 + [429]
        assert (await attempt(broker, emails[-1], PASSWORD)).status_code == 200


async def test_successful_logins_do_not_use_up_a_shared_address(
    make_backend: Any,
) -> None:
    backend = await make_backend(**QUICK)
    for _ in range(QUICK["login_attempts_per_address"] + 3):
        await backend.new_broker()


async def test_replicas_share_the_counts_through_redis(make_backend: Any) -> None:
    shared = {"redis_url": REDIS_URL, "redis_prefix": f"test:{uuid.uuid4().hex[:8]}:", **QUICK}
    first = await make_backend(**shared)
    second = await make_backend(**shared)
    email, _ = await first.create_user()

    for index in range(5):
        replica = first if index % 2 else second
        assert (await attempt(replica.client, email, "wrong")).status_code == 401
    refused = await attempt(first.client, email, "wrong")
    assert refused.status_code == 429
    assert (await attempt(second.client, email, PASSWORD)).status_code == 429


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    make_backend: Any,
) -> None:
    settings = {**QUICK, "login_attempts_per_account": 100, "login_attempts_per_address": 3}
    direct = await make_backend(**settings)
    email, _ = await direct.create_user()
    # Without a trusted proxy a client cannot escape its budget by inventing addresses.
    spoofed = [
        await direct.client.post(
            f"{API}/auth/login",
            json={"email": email, "password": "wrong"},
            headers={"X-Forwarded-For": f"192.0.2.{index}"},
        )
        for index in range(4)
    ]
    assert [r.status_code for r in spoofed] == [401, 401, 401, 429]

    proxied = await make_backend(**settings, trusted_proxies="127.0.0.1")
    behind_proxy = [
        await proxied.client.post(
            f"{API}/auth/login",
            json={"email": email, "password": "wrong"},
            headers={"X-Forwarded-For": f"192.0.2.{index}"},
        )
        for index in range(4)
    ]
    assert [r.status_code for r in behind_proxy] == [401] * 4


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # client-written part ignored
        ("10.0.0.5", ["198.51.100.1, 10.0.0.7"], "198.51.100.1"),  # two trusted hops
        ("10.0.0.5", ["198.51.100.1", "10.0.0.7"], "198.51.100.1"),  # repeated headers
        ("10.0.0.5", ["not-an-address"], "10.0.0.5"),
        ("10.0.0.5", [], "10.0.0.5"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, parse_networks(["10.0.0.0/8"])) == expected
