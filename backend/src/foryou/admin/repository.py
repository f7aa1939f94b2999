"""Every query of the admin screens: brokers with their connection, events, app users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foryou.auth.models import Role, User
from foryou.integrations.amocrm.models import (
    AmoCrmConnection,
    AmoCrmConnectionEvent,
    AmoCrmReconnectRequest,
    ConnectionStatus,
    EventKind,
)


@dataclass(frozen=True, slots=True)
class BrokerRow:
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    user_status: str
    connection_status: str | None
    reason: str | None
    has_tokens: bool
    account_domain: str | None
    amo_user_id: int | None
    amo_user_name: str | None
    last_refreshed_at: datetime | None
    connected_at: datetime | None
    reconnect_requested_at: datetime | None
    reconnect_note: str | None
    last_error: str | None
    last_error_at: datetime | None
    last_active_at: datetime | None


def _last_failure(column: Any) -> Any:
    return (
        select(column)
        .where(
            AmoCrmConnectionEvent.user_id == User.id,
            AmoCrmConnectionEvent.kind == EventKind.REFRESH_FAILED.value,
        )
        .order_by(AmoCrmConnectionEvent.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )


_ACTIVE = AmoCrmConnection.status == ConnectionStatus.ACTIVE.value
_HAS_TOKENS = AmoCrmConnection.token_key_id.is_not(None)
# What each `state` filter means, as SQL on the joined connection.
_STATE_FILTERS: dict[str, Any] = {
    "never_connected": AmoCrmConnection.id.is_(None),
    "active": and_(_ACTIVE, _HAS_TOKENS),
    "reauth_required": or_(
        AmoCrmConnection.status == ConnectionStatus.REAUTH_REQUIRED.value,
        and_(_ACTIVE, AmoCrmConnection.token_key_id.is_(None)),
    ),
    "revoked": AmoCrmConnection.status == ConnectionStatus.REVOKED.value,
    "disconnected": AmoCrmConnection.status == ConnectionStatus.DISCONNECTED.value,
}
BROKER_STATES = tuple(_STATE_FILTERS)


def _contains(column: Any, text: str) -> Any:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


async def list_brokers(
    session: AsyncSession, *, state: str | None, q: str | None, offset: int, limit: int
) -> tuple[list[BrokerRow], int]:
    """Brokers, and admins who connected, with their connection; one page and the total."""
    conditions: list[Any] = [
        or_(
            User.role == Role.BROKER.value,
            and_(User.role == Role.ADMIN.value, AmoCrmConnection.id.is_not(None)),
        )
    ]
    if state is not None:
        conditions.append(_STATE_FILTERS[state])
    if q:
        conditions.append(
            or_(
                _contains(User.email, q),
                _contains(User.name, q),
                _contains(AmoCrmConnection.amo_user_name, q),
            )
        )
    joined = (
        select(User.id)
        .outerjoin(AmoCrmConnection, AmoCrmConnection.user_id == User.id)
        .where(*conditions)
    )
    total = int(
        (await session.execute(select(func.count()).select_from(joined.subquery()))).scalar_one()
    )
    query = (
        select(
            User.id,
            User.email,
            User.name,
            User.role,
            User.status,
            AmoCrmConnection.status,
            AmoCrmConnection.reason,
            _HAS_TOKENS,
            AmoCrmConnection.account_domain,
            AmoCrmConnection.amo_user_id,
            AmoCrmConnection.amo_user_name,
            AmoCrmConnection.last_refreshed_at,
            AmoCrmConnection.connected_at,
            AmoCrmReconnectRequest.requested_at,
            AmoCrmReconnectRequest.note,
            _last_failure(AmoCrmConnectionEvent.reason),
            _last_failure(AmoCrmConnectionEvent.created_at),
            AmoCrmConnection.last_active_at,
        )
        .outerjoin(AmoCrmConnection, AmoCrmConnection.user_id == User.id)
        .outerjoin(AmoCrmReconnectRequest, AmoCrmReconnectRequest.user_id == User.id)
        .where(*conditions)
        .order_by(User.email)
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.execute(query)).all()
    brokers = []
    for row in rows:
        values: list[Any] = list(row)
        values[7] = bool(values[7])
        brokers.append(BrokerRow(*values))
    return brokers, total


async def list_events(
    session: AsyncSession, user_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[Sequence[AmoCrmConnectionEvent], int]:
    total = (
        await session.execute(
            select(func.count())
            .select_from(AmoCrmConnectionEvent)
            .where(AmoCrmConnectionEvent.user_id == user_id)
        )
    ).scalar_one()
    result = await session.execute(
        select(AmoCrmConnectionEvent)
        .where(AmoCrmConnectionEvent.user_id == user_id)
        .order_by(AmoCrmConnectionEvent.created_at.desc(), AmoCrmConnectionEvent.id)
        .offset(offset)
        .limit(limit)
    )
    return result.scalars().all(), int(total)


async def request_reconnect(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    requested_by: uuid.UUID,
    note: str | None,
    now: datetime,
) -> None:
    """The user's one standing request becomes this one."""
    await session.execute(
        delete(AmoCrmReconnectRequest).where(AmoCrmReconnectRequest.user_id == user_id)
    )
    session.add(
        AmoCrmReconnectRequest(
            user_id=user_id, requested_by=requested_by, note=note, requested_at=now
        )
    )
    await session.flush()


async def list_users(
    session: AsyncSession, *, status: str | None, q: str | None, offset: int, limit: int
) -> tuple[Sequence[User], int]:
    conditions: list[Any] = []
    if status is not None:
        conditions.append(User.status == status)
    if q:
        conditions.append(or_(_contains(User.email, q), _contains(User.name, q)))
    total = (
        await session.execute(select(func.count()).select_from(User).where(*conditions))
    ).scalar_one()
    result = await session.execute(
        select(User).where(*conditions).order_by(User.email).offset(offset).limit(limit)
    )
    return result.scalars().all(), int(total)


async def set_user_status(
    session: AsyncSession, user_id: uuid.UUID, status: str, now: datetime
) -> None:
    await session.execute(
        update(User).where(User.id == user_id).values(status=status, updated_at=now)
    )
