"""Queries on users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from foryou.auth.models import CurrentUser, User

# The columns behind `CurrentUser`, in its field order; other features' single-query reads
# (the amoCRM status) select them next to their own.
CURRENT_USER_COLUMNS = (User.id, User.email, User.name, User.role, User.status)


def current_user_from(row: Sequence[Any]) -> CurrentUser:
    """A `CurrentUser` from a row that starts with `CURRENT_USER_COLUMNS`."""
    return CurrentUser(row[0], row[1], row[2], row[3], row[4])


# Built once: executing the very statement object that was compiled and cached skips
# building the query and re-mapping its result columns on every request.
_CURRENT_USER = select(*CURRENT_USER_COLUMNS).where(User.id == bindparam("user_id"))


async def get_current_user(connection: AsyncConnection, user_id: uuid.UUID) -> CurrentUser | None:
    result = await connection.execute(_CURRENT_USER, {"user_id": user_id})
    row = result.first()
    return None if row is None else current_user_from(row)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email.lower()))
    return result.scalar_one_or_none()


async def add_user(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()
