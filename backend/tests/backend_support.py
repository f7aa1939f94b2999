"""Shared helpers for the backend tests: settings, app users, the connect walk, a canary."""

from __future__ import annotations

import html
import http.server
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI
from foryou.auth.models import Role
from foryou.clock import OffsetClock
from foryou.logging import build_formatter
from foryou.services import Services

from scripts.harness_constants import (
    AMO,
    API,
    BINDER_COOKIE,
    CLIENT_ID,
    CLIENT_SECRET,
    ENCRYPTION_KEY_1,
    JWT_SECRET,
    PASSWORD,
    PUBLIC_URL,
    REDIRECT_URI,
)


def base_settings(database_url: str, upstream_url: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_url": PUBLIC_URL,
        "jwt_secret": JWT_SECRET,
        "encryption_keys": f"k1:{ENCRYPTION_KEY_1}",
        "amocrm_client_id": CLIENT_ID,
        "amocrm_client_secret": CLIENT_SECRET,
        "amocrm_redirect_uri": REDIRECT_URI,
        "amocrm_upstream_url": upstream_url,
        "amocrm_timeout_seconds": 2.0,
        "amocrm_connect_timeout_seconds": 1.0,
        "web_return_url": "http://127.0.0.1:8081/amo-crm/callback",
        # Tests move the clock by days; app tokens outlive that unless a test says otherwise.
        "jwt_ttl_seconds": 7 * 86400,
        # Cheap hashes keep the suite fast; production uses the strong defaults.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        "_env_file": None,
    }
    values.update(overrides)
    return values


@dataclass
class Backend:
    """One in-process backend (real app, real database) and an HTTP client for it."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: OffsetClock
    services: Services
    users: dict[str, uuid.UUID] = field(default_factory=dict)

    async def create_user(
        self, email: str | None = None, role: Role = Role.BROKER, name: str | None = None
    ) -> tuple[str, uuid.UUID]:
        email = email or f"broker-{uuid.uuid4().hex[:10]}@foryou.test"
        user = await self.services.users.create_user(
            email=email, password=PASSWORD, role=role, name=name
        )
        return email, user.id

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.client.post(
            f"{API}/auth/login", json={"email": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['data']['accessToken']}"}

    async def new_broker(self, role: Role = Role.BROKER) -> dict[str, str]:
        email, _ = await self.create_user(role=role)
        return await self.login(email)

    async def status(self, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.get(f"{AMO}/status", headers=headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    async def authorize(self, headers: dict[str, str], client: str = "native") -> str:
        response = await self.client.post(
            f"{AMO}/authorize", headers=headers, json={"client": client}
        )
        assert response.status_code == 200, response.text
        url: str = response.json()["data"]["authorizeUrl"]
        return url

    async def start(self, authorize_url: str) -> tuple[str, str]:
        """Open the authorize URL like a browser: the start page names the account and links
        on to amoCRM's consent page. Returns (consent URL, binder cookie)."""
        parts = urlsplit(authorize_url)
        response = await self.client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200, response.text
        binder = response.cookies.get(BINDER_COOKIE)
        assert binder, "start did not set the binder cookie"
        self.client.cookies.clear()
        return consent_link(response.text), binder

    async def callback(
        self, location: str, binder: str | None
    ) -> tuple[httpx.Response, dict[str, str]]:
        """Deliver amoCRM's redirect to our callback; returns the response and the app query."""
        parts = urlsplit(location)
        cookies = {BINDER_COOKIE: binder} if binder else {}
        response = await self.client.get(
            f"{parts.path}?{parts.query}", headers=_cookie_header(cookies)
        )
        assert response.status_code == 302, response.text
        back = urlsplit(response.headers["location"])
        return response, {k: v[0] for k, v in parse_qs(back.query).items()}

    async def complete(self, headers: dict[str, str], ticket: str) -> httpx.Response:
        """The app redeems the callback's ticket with its own JWT."""
        return await self.client.post(f"{AMO}/complete", headers=headers, json={"ticket": ticket})

    async def finish(self, headers: dict[str, str], back: dict[str, str]) -> dict[str, Any]:
        """The app's side after the callback sent it back pending: redeem, return the status."""
        assert back.get("status") == "pending", back
        response = await self.complete(headers, back["ticket"])
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


def consent_link(start_page: str) -> str:
    """The consent URL behind the start page's "Continue to amoCRM" button."""
    match = re.search(r'<a [^>]*href="([^"]*/oauth\?[^"]*)"', start_page)
    assert match, start_page
    return html.unescape(match.group(1))


async def connect(
    backend: Backend, emu: Any, headers: dict[str, str], amo_user: dict[str, Any]
) -> None:
    """The whole round trip for an app user (start page, consent, callback, the app redeems
    the ticket); asserts it ends connected."""
    consent_url, binder = await backend.start(await backend.authorize(headers))
    location = emu.consent(consent_url, amo_user["login"], amo_user["password"])
    _, back = await backend.callback(location, binder)
    status = await backend.finish(headers, back)
    assert status["state"] == "connected", status


_seeded_users: dict[str, list[dict[str, Any]]] = {}


def amo_user(emu: Any, role: str = "broker", index: int = 0) -> dict[str, Any]:
    """A seeded amoCRM user of the default account (the seed is the same after every reset)."""
    if emu.base_url not in _seeded_users:
        _seeded_users[emu.base_url] = emu.control.users(account_subdomain="reforyou")
    users = [user for user in _seeded_users[emu.base_url] if user["role"] == role]
    return users[index]


def token_grants(emu: Any, grant_type: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = emu.control.requests(
        path="/oauth2/access_token", grant_type=grant_type
    )
    return rows


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    if not cookies:
        return {}
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Canary:
    """A loopback HTTP server that records every request it receives."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self) -> None:
                canary.requests.append(f"{self.command} {self.path} Host={self.headers['Host']}")
                if redirect_to is not None:
                    # A 307 would make a redirect-following client resend the POST body.
                    self.send_response(307)
                    self.send_header("Location", f"{redirect_to}{self.path}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_DELETE = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Canary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def captured_logs() -> Iterator[StringIO]:
    """Every log line the backend writes, formatted exactly as in production (JSON)."""
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter(use_json=True))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
