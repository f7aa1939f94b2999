"""Every query on the agency connection (and the broker names it fills in)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foryou.agency.models import AgencyConnection, AgencySource, AgencyStatus
from foryou.db import rowcount
from foryou.integrations.amocrm.models import AmoCrmConnection


async def get_for_account(session: AsyncSession, account_id: int) -> AgencyConnection | None:
    result = await session.execute(
        select(AgencyConnection)
        .where(AgencyConnection.account_id == account_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def list_all(session: AsyncSession) -> Sequence[AgencyConnection]:
    result = await session.execute(
        select(AgencyConnection)
        .order_by(AgencyConnection.updated_at.desc())
        .execution_options(populate_existing=True)
    )
    return result.scalars().all()


async def replace(session: AsyncSession, agency: AgencyConnection) -> None:
    """The account's agency connection becomes `agency` (one per account)."""
    await session.execute(
        delete(AgencyConnection).where(AgencyConnection.account_id == agency.account_id)
    )
    session.add(agency)
    await session.flush()


async def remove(session: AsyncSession, account_id: int | None) -> int:
    query = delete(AgencyConnection)
    if account_id is not None:
        query = query.where(AgencyConnection.account_id == account_id)
    result = await session.execute(query)
    return rowcount(result)


async def mark(
    session: AsyncSession, agency_id: uuid.UUID, status: AgencyStatus, now: datetime
) -> bool:
    """End a long-lived token (expired or revoked): the ciphertext goes, the row stays."""
    result = await session.execute(
        update(AgencyConnection)
        .where(
            AgencyConnection.id == agency_id,
            AgencyConnection.status == AgencyStatus.ACTIVE.value,
        )
        .values(status=status.value, token_enc=None, token_key_id=None, updated_at=now)
    )
    return rowcount(result) == 1


async def mark_checked(session: AsyncSession, agency_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(AgencyConnection).where(AgencyConnection.id == agency_id).values(last_checked_at=now)
    )


async def expiring_unwarned(session: AsyncSession, before: datetime) -> Sequence[AgencyConnection]:
    result = await session.execute(
        select(AgencyConnection).where(
            AgencyConnection.source == AgencySource.LONG_LIVED_TOKEN.value,
            AgencyConnection.status == AgencyStatus.ACTIVE.value,
            AgencyConnection.expiry_warned_at.is_(None),
            AgencyConnection.expires_at <= before,
        )
    )
    return result.scalars().all()


async def mark_warned(session: AsyncSession, agency_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(AgencyConnection)
        .where(AgencyConnection.id == agency_id)
        .values(expiry_warned_at=now)
    )


async def expired_active(session: AsyncSession, now: datetime) -> Sequence[AgencyConnection]:
    result = await session.execute(
        select(AgencyConnection).where(
            AgencyConnection.source == AgencySource.LONG_LIVED_TOKEN.value,
            AgencyConnection.status == AgencyStatus.ACTIVE.value,
            AgencyConnection.expires_at <= now,
        )
    )
    return result.scalars().all()


async def accounts_missing_names(session: AsyncSession) -> list[int]:
    """Accounts with an agency connection and a connected broker whose name is unknown."""
    result = await session.execute(
        select(AmoCrmConnection.account_id)
        .join(AgencyConnection, AgencyConnection.account_id == AmoCrmConnection.account_id)
        .where(AmoCrmConnection.amo_user_name.is_(None))
        .distinct()
    )
    return [int(account_id) for account_id in result.scalars()]


async def fill_broker_names(session: AsyncSession, account_id: int, names: dict[int, str]) -> int:
    """Write the catalogue's names onto the account's connections that lack or differ."""
    changed = 0
    for amo_user_id, name in names.items():
        result = await session.execute(
            update(AmoCrmConnection)
            .where(
                AmoCrmConnection.account_id == account_id,
                AmoCrmConnection.amo_user_id == amo_user_id,
                (AmoCrmConnection.amo_user_name.is_(None))
                | (AmoCrmConnection.amo_user_name != name),
            )
            .values(amo_user_name=name)
        )
        changed += rowcount(result)
    return changed


async def reseal(session: AsyncSession, agency_id: uuid.UUID, key_id: str, token_enc: str) -> None:
    """Key rotation: the same token under the current key."""
    await session.execute(
        update(AgencyConnection)
        .where(AgencyConnection.id == agency_id)
        .values(token_key_id=key_id, token_enc=token_enc)
    )
