"""CRM test fixtures: connected brokers, and amoCRM read directly with a user's own token."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from backend_support import Backend, amo_user, connect

from scripts.harness_constants import ACCOUNT_HOST, API


@dataclass
class AmoDirect:
    """amoCRM (the emulator) read with one amoCRM user's own token, outside our backend."""

    emu: Any
    token: str

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
        with self.emu.client() as http:
            for _ in range(10):
                response = http.get(
                    f"https://{ACCOUNT_HOST}{path}",
                    params=params,
                    headers={"Authorization": f"Bearer {self.token}"},
                )
                if response.status_code != 429:
                    break
                # The tests' own reads share the account's 7 rps with the backend.
                time.sleep(float(response.headers.get("retry-after", "1")))
        if response.status_code == 204:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def all_leads(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every lead matching `params`, walking amoCRM's pages."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get("/api/v4/leads", {**params, "page": page, "limit": 250})
            if body is None:
                return found
            found.extend(body["_embedded"]["leads"])
            if "next" not in body["_links"]:
                return found
            page += 1


def direct(emu: Any, role: str = "admin", index: int = 0) -> AmoDirect:
    return AmoDirect(emu, emu.token_for(amo_user(emu, role, index))["access_token"])


ConnectFn = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def connected(backend: Backend, emu: Any) -> ConnectFn:
    """An app user connected to a seeded amoCRM user; returns their request headers."""

    async def make(role: str = "broker", index: int = 0, name: str | None = None) -> dict[str, str]:
        email, _ = await backend.create_user(name=name)
        headers = await backend.login(email)
        await connect(backend, emu, headers, amo_user(emu, role, index))
        return headers

    return make


def api_requests(emu: Any, method: str | None = None, path: str | None = None) -> list[Any]:
    """The emulator's log of API v4 calls (token calls and control calls excluded)."""
    rows = emu.control.requests(method=method, path=path)
    return [row for row in rows if row["path"].startswith("/api/v4/")]


async def get_data(backend: Backend, headers: dict[str, str], path: str, **params: Any) -> Any:
    response = await backend.client.get(f"{API}{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.fixture
def amo_direct(emu: Any) -> Callable[..., AmoDirect]:
    """`amo_direct(role, index)`: amoCRM read with that seeded user's own token."""
    return lambda role="admin", index=0: direct(emu, role, index)


@pytest.fixture
def api_log(emu: Any) -> Callable[..., list[Any]]:
    """`api_log(method=None, path=None)`: the emulator's log of API v4 calls."""
    return lambda method=None, path=None: api_requests(emu, method, path)
