"""Helpers of the token-lifecycle tests: real `foryou serve` / `foryou worker` processes that
share the test's database and secrets with the in-process backend, and row inspection."""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend_support import Backend, amo_user, base_settings, connect, token_grants
from foryou.crypto import TokenCipher
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmConnectionEvent
from foryou.integrations.amocrm.tokens import open_token
from sqlalchemy import select, update

from scripts.foryou_process import ForyouProcess, serving

DAY = 86400


def process_env(database_url: str, emulator_url: str, **overrides: Any) -> dict[str, str]:
    """The environment of a backend process with the same settings as the in-process backend
    (same database, secrets, integration), so app tokens and sealed tokens work in both."""
    values = base_settings(database_url, emulator_url, **overrides)
    values.pop("_env_file", None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORYOU_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for name, value in values.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"FORYOU_{name.upper()}"] = text
    env["FORYOU_LOG_JSON"] = "true"
    return env


@contextlib.contextmanager
def serve(
    database_url: str, emulator_url: str, *, workers: int = 1, wait: bool = True, **overrides: Any
) -> Iterator[ForyouProcess]:
    """`foryou serve` on a free loopback port with the test's settings; stopped on exit.

    With `wait=False` it yields at once (call `wait_ready()` later), so a slow start overlaps
    with the test's own preparation."""
    env = process_env(database_url, emulator_url, **overrides)
    with serving(env, workers=workers, wait=wait) as server:
        yield server


def start_worker(
    database_url: str, emulator_url: str, workdir: Path, *args: str, **overrides: Any
) -> tuple[subprocess.Popen[bytes], Path]:
    """`foryou worker` as its own process; its output goes to a file in `workdir`."""
    worker = ForyouProcess.start(
        ["worker", *args],
        process_env(database_url, emulator_url, **overrides),
        log_path=workdir / f"worker-{uuid.uuid4().hex[:6]}.log",
    )
    return worker.process, worker.log_path


async def connect_brokers(backend: Backend, emu: Any, count: int) -> list[dict[str, str]]:
    """`count` app brokers (at most 10), each connected through the real flow to a seeded
    amoCRM user of its own: one amoCRM user links to one ForYou user."""
    seeded = [amo_user(emu, "admin")] + [amo_user(emu, "broker", i) for i in range(9)]
    assert count <= len(seeded), f"the account has {len(seeded)} amoCRM users"
    headers = []
    for user in seeded[:count]:
        email, _ = await backend.create_user()
        broker = await backend.login(email)
        await connect(backend, emu, broker, user)
        headers.append(broker)
    return headers


async def rows(backend: Backend) -> list[AmoCrmConnection]:
    async with backend.services.db.transaction() as session:
        result = await session.execute(select(AmoCrmConnection))
        return list(result.scalars())


async def row_of(backend: Backend, user_id: uuid.UUID) -> AmoCrmConnection:
    async with backend.services.db.transaction() as session:
        result = await session.execute(
            select(AmoCrmConnection)
            .where(AmoCrmConnection.user_id == user_id)
            .execution_options(populate_existing=True)
        )
        return result.scalar_one()


async def set_columns(backend: Backend, **values: Any) -> None:
    """Move every connection's bookkeeping (e.g. access_expires_at into the past)."""
    async with backend.services.db.transaction() as session:
        await session.execute(update(AmoCrmConnection).values(**values))


async def events(backend: Backend, user_id: uuid.UUID) -> list[tuple[str, str | None]]:
    async with backend.services.db.transaction() as session:
        result = await session.execute(
            select(AmoCrmConnectionEvent)
            .where(AmoCrmConnectionEvent.user_id == user_id)
            .order_by(AmoCrmConnectionEvent.created_at, AmoCrmConnectionEvent.kind)
        )
        return [(event.kind, event.reason) for event in result.scalars()]


def assert_not_corrupt(backend: Backend, row: AmoCrmConnection) -> None:
    """Stored tokens open with the configured keys, or are wiped together with the status."""
    cipher: TokenCipher = backend.services.connections._cipher
    if row.status == "active":
        assert row.token_key_id is not None
        assert open_token(cipher, row, "access_token").startswith("eyJ")
        assert open_token(cipher, row, "refresh_token").startswith("def50200")
    else:
        assert row.access_token_enc is None
        assert row.refresh_token_enc is None
        assert row.token_key_id is None


def refresh_grants(emu: Any) -> list[dict[str, Any]]:
    return token_grants(emu, "refresh_token")


def user_id_of(headers: dict[str, str]) -> uuid.UUID:
    import jwt

    token = headers["Authorization"].removeprefix("Bearer ")
    return uuid.UUID(jwt.decode(token, options={"verify_signature": False})["sub"])
