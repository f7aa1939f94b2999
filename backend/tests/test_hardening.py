"""Response hygiene, the docs and metrics exposure, and a database outage answered as 503."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from backend_support import Backend, base_settings
from foryou.clock import OffsetClock
from foryou.config import Settings
from foryou.main import create_app
from sqlalchemy.engine.url import make_url

from scripts.harness_constants import API

HYGIENE = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
}


def assert_hygiene(response: httpx.Response) -> None:
    for name, value in HYGIENE.items():
        assert response.headers.get(name) == value, (name, response.headers)
    request_id = response.headers.get("x-request-id", "")
    assert len(request_id) >= 8
    body = response.json()
    assert body["success"] is False
    assert body["error"]["requestId"] == request_id


async def test_an_unexpected_exception_answers_500_with_headers_and_request_id(
    backend: Backend,
) -> None:
    async def explode() -> None:
        raise RuntimeError("a bug")

    backend.app.add_api_route("/boom", explode)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=backend.app, raise_app_exceptions=False),
        base_url="http://testserver",
    )
    async with client:
        response = await client.get("/boom", headers={"X-Request-Id": "incoming-1234"})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert_hygiene(response)
    assert response.headers["x-request-id"] == "incoming-1234"


async def test_docs_are_served_without_a_cdn(backend: Backend) -> None:
    page = await backend.client.get(f"{API}/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "<script>" not in page.text  # no inline script: the CSP allows 'self' only
    csp = page.headers["content-security-policy"]
    assert "http" not in csp
    assert "script-src" not in csp
    assert "default-src 'self'" in csp
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = await backend.client.get(f"{API}/docs/assets/{asset}")
        assert response.status_code == 200, asset
        assert len(response.content) > 10_000
    init = await backend.client.get(f"{API}/docs/init.js")
    assert f"{API}/openapi.json" in init.text
    assert (await backend.client.get(f"{API}/openapi.json")).status_code == 200


async def test_docs_can_be_turned_off(make_backend: Any) -> None:
    backend = await make_backend(api_docs=False)
    for path in (f"{API}/docs", f"{API}/docs/init.js", f"{API}/openapi.json"):
        response = await backend.client.get(path)
        assert response.status_code == 404, path
        assert_hygiene(response)


async def test_metrics_token(make_backend: Any) -> None:
    open_backend = await make_backend()
    assert (await open_backend.client.get("/metrics")).status_code == 200

    guarded = await make_backend(metrics_token="metrics-" + "t" * 32)
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "metrics-" + "t" * 32},
    ):
        refused = await guarded.client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert_hygiene(refused)
    allowed = await guarded.client.get(
        "/metrics", headers={"Authorization": "Bearer metrics-" + "t" * 32}
    )
    assert allowed.status_code == 200
    assert "foryou" in allowed.text or "python" in allowed.text


class TcpRelay:
    """A TCP relay to the database that the test can cut and restore, like a network outage
    or a restarting server: cutting closes the listener and every relayed connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, upstream_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self._writers.difference_update({writer, upstream_writer})


@pytest.fixture
async def relay(database_url: str) -> AsyncIterator[TcpRelay]:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite is a file in the process: there is no server to lose")
    url = make_url(database_url)
    relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    yield relay
    with contextlib.suppress(AssertionError):
        await relay.cut()


@pytest.fixture
async def relayed_backend(
    make_backend: Any, emu: Any, database_url: str, relay: TcpRelay
) -> AsyncIterator[Backend]:
    await make_backend()  # empties the tables
    relayed = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    settings = Settings(
        **base_settings(relayed.render_as_string(hide_password=False), emu.base_url)
    )
    app = create_app(settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    yield Backend(app=app, client=client, clock=OffsetClock(), services=app.state.services)
    await client.aclose()
    await app.state.services.aclose()


async def test_a_lost_database_answers_503_and_recovers(
    relayed_backend: Backend, relay: TcpRelay
) -> None:
    backend = relayed_backend
    email, _ = await backend.create_user()
    headers = await backend.login(email)
    assert (await backend.client.get(f"{API}/auth/me", headers=headers)).status_code == 200

    await relay.cut()
    for path in (f"{API}/auth/me", f"{API}/integrations/amo-crm/status"):
        for _ in range(3):
            response = await backend.client.get(path, headers=headers)
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "service_unavailable"
            assert int(response.headers["Retry-After"]) >= 1
            assert_hygiene(response)
    login = await backend.client.post(
        f"{API}/auth/login", json={"email": email, "password": "whatever"}
    )
    assert login.status_code == 503

    await relay.start()
    for _ in range(5):
        assert (await backend.client.get(f"{API}/auth/me", headers=headers)).status_code == 200
