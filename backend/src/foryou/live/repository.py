"""Every query of the live-updates feature."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foryou.integrations.amocrm.models import AmoCrmConnection, ConnectionStatus
from foryou.live.models import AccountFeed


@dataclass(frozen=True)
class Follower:
    """An app user with an active connection to the account: who may hear of its changes."""

    user_id: uuid.UUID
    amo_user_id: int


async def feed_by_key_hash(session: AsyncSession, key_hash: str) -> AccountFeed | None:
    result = await session.execute(select(AccountFeed).where(AccountFeed.key_hash == key_hash))
    return result.scalar_one_or_none()


async def feed_of(session: AsyncSession, account_id: int) -> AccountFeed | None:
    return await session.get(AccountFeed, account_id, populate_existing=True)


async def add_feed(session: AsyncSession, feed: AccountFeed) -> None:
    session.add(feed)
    await session.flush()


async def update_feed(session: AsyncSession, account_id: int, **values: object) -> None:
    await session.execute(
        update(AccountFeed).where(AccountFeed.account_id == account_id).values(**values)
    )


async def followers(session: AsyncSession, account_id: int) -> list[Follower]:
    result = await session.execute(
        select(AmoCrmConnection.user_id, AmoCrmConnection.amo_user_id).where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
        )
    )
    return [Follower(user_id, int(amo_user_id)) for user_id, amo_user_id in result.all()]


async def active_accounts(session: AsyncSession) -> list[int]:
    """Accounts with at least one active broker connection."""
    result = await session.execute(
        select(AmoCrmConnection.account_id)
        .where(AmoCrmConnection.status == ConnectionStatus.ACTIVE.value)
        .distinct()
    )
    return sorted(int(account_id) for (account_id,) in result.all())


async def admin_user_of(session: AsyncSession, account_id: int) -> uuid.UUID | None:
    """The app user of an active connection of an amoCRM admin of the account, if any."""
    result = await session.execute(
        select(AmoCrmConnection.user_id)
        .where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
            AmoCrmConnection.amo_user_is_admin.is_(True),
        )
        .order_by(AmoCrmConnection.connected_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def broker_user_of(session: AsyncSession, account_id: int) -> uuid.UUID | None:
    """Any active connection of the account (the events poll reads with a broker's token)."""
    result = await session.execute(
        select(AmoCrmConnection.user_id)
        .where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
        )
        .order_by(AmoCrmConnection.amo_user_is_admin.desc(), AmoCrmConnection.connected_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def touch_received(session: AsyncSession, account_id: int, now: datetime) -> None:
    await update_feed(session, account_id, last_received_at=now)
