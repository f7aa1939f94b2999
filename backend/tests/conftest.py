"""Fixtures: one emulator process and one migrated database per engine for the whole session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from backend_support import Backend, base_settings
from foryou.clock import OffsetClock
from foryou.config import Settings
from foryou.db import Database
from foryou.main import create_app
from foryou.migrate import upgrade
from foryou.models import Base
from sqlalchemy import delete
from sqlalchemy.engine.url import make_url

from scripts.harness_constants import CLIENT_ID, CLIENT_SECRET, POSTGRES_URL, REDIRECT_URI

BackendFactory = Callable[..., Awaitable[Backend]]


def _create_postgres_database() -> tuple[str, Callable[[], None]]:
    admin = make_url(POSTGRES_URL)
    name = f"foryou_test_{uuid.uuid4().hex[:12]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)

    async def run(sql: str) -> None:
        try:
            connection = await asyncpg.connect(dsn, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            # CI has PostgreSQL; a missing server is a failure, never a silent skip.
            msg = f"PostgreSQL at {admin.host}:{admin.port} unreachable: {exc}"
            raise RuntimeError(msg) from exc
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    url = admin.set(database=name).render_as_string(hide_password=False)
    return url, drop


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per engine, shared by the session (tables are emptied per test)."""
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("sqlite")) / "foryou.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    url, drop = _create_postgres_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop()


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    from amocrm_emulator.testing import start_emulator

    with start_emulator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
    ) as emu:
        yield emu


@pytest.fixture(scope="session")
def emulator_control_http(emulator: Any) -> Iterator[httpx.Client]:
    """One kept-alive connection for the per-test reset (it runs before every test)."""
    with httpx.Client(base_url=emulator.base_url, timeout=15.0) as client:
        yield client


@pytest.fixture
def emu(emulator: Any, emulator_control_http: httpx.Client) -> Any:
    """The session's emulator, back in its seed state (faults and request log cleared too)."""
    emulator_control_http.post("/_emulator/reset").raise_for_status()
    return emulator


async def _empty_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(delete(table))
    finally:
        await db.dispose()


@pytest.fixture
async def make_backend(database_url: str, emu: Any) -> AsyncIterator[BackendFactory]:
    """Build backends on the test's database, talking to the emulator over HTTP."""
    await _empty_tables(database_url)
    built: list[Backend] = []

    async def factory(**overrides: Any) -> Backend:
        settings = Settings(**base_settings(database_url, emu.base_url, **overrides))
        clock = OffsetClock()
        app = create_app(settings, clock=clock)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        backend = Backend(app=app, client=client, clock=clock, services=app.state.services)
        built.append(backend)
        return backend

    yield factory
    for backend in built:
        await backend.client.aclose()
        await backend.services.aclose()


@pytest.fixture
async def backend(make_backend: BackendFactory) -> Backend:
    return await make_backend()
