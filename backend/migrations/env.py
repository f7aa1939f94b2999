"""Alembic environment: the URL comes from Settings (or the caller), never from this file."""

from __future__ import annotations

import asyncio

from alembic import context
from foryou.config import load_settings
from foryou.db import create_engine
from foryou.models import Base
from sqlalchemy.engine import Connection

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url") or load_settings().database_url
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `foryou db upgrade`")
run_migrations_online()
