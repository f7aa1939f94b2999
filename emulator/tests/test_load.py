"""The emulator under the load other suites put on it: refresh storms and many clients."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from amocrm_emulator.testing import RunningEmulator, amo_async_client

from scripts.harness_constants import AMO_API, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, TOKEN_URL

pytestmark = pytest.mark.slow


async def test_refresh_storm_of_200_concurrent_requests_has_one_winner(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "redirect_uri": REDIRECT_URI,
    }
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    started = time.monotonic()
    async with amo_async_client(emu.base_url, limits=limits, timeout=30.0) as http:
        answers = await asyncio.gather(*(http.post(TOKEN_URL, json=body) for _ in range(200)))
    elapsed = time.monotonic() - started
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(200) == 1
    assert statuses.count(401) == 199
    assert all(
        a.json()["hint"] == "Token has been revoked" for a in answers if a.status_code == 401
    )
    assert elapsed < 20


async def test_50_concurrent_clients_read_their_own_leads(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    # Brokers who see only their own leads (broker6 sees the whole group).
    logins = [f"broker{i}@reforyou.example" for i in (1, 2, 3, 4, 5, 7, 8)]
    tokens = {login: emu.token_for(login) for login in logins}
    me = {
        login: client.get(
            f"{AMO_API}/account",
            headers={"Authorization": f"Bearer {tokens[login]['access_token']}"},
        ).json()["current_user_id"]
        for login in logins
    }

    async def one_client(index: int) -> set[int]:
        login = logins[index % len(logins)]
        headers = {"Authorization": f"Bearer {tokens[login]['access_token']}"}
        async with amo_async_client(emu.base_url, timeout=30.0) as http:
            owners: set[int] = set()
            for page in (1, 2):
                answer = await http.get(
                    f"{AMO_API}/leads", headers=headers, params={"page": page, "limit": 25}
                )
                assert answer.status_code in (200, 204)
                if answer.status_code == 200:
                    owners |= {
                        lead["responsible_user_id"] for lead in answer.json()["_embedded"]["leads"]
                    }
            assert (
                await http.get(f"{AMO_API}/leads/pipelines", headers=headers)
            ).status_code == 200
            return owners

    results = await asyncio.gather(*(one_client(i) for i in range(50)))
    for index, owners in enumerate(results):
        assert owners == {me[logins[index % len(logins)]]}
