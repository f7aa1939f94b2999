"""Every query of the live-updates feature."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foryou.db import rowcount
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


async def claim_feed(
    session: AsyncSession, account_id: int, *, new_key_hash: str, now: datetime, until: datetime
) -> AccountFeed | None:
    """The account's feed (created with `new_key_hash` when it has none), held for a webhook
    check until `until`; None while another process holds it. A concurrent first creation
    raises IntegrityError."""
    feed = await feed_of(session, account_id)
    if feed is None:
        feed = AccountFeed(
            account_id=account_id, key_hash=new_key_hash, created_at=now, sync_until=until
        )
        await add_feed(session, feed)
        return feed
    result = await session.execute(
        update(AccountFeed)
        .where(
            AccountFeed.account_id == account_id,
            or_(AccountFeed.sync_until.is_(None), AccountFeed.sync_until <= now),
        )
        .values(sync_until=until)
    )
    if rowcount(result) != 1:
        return None
    feed.sync_until = until
    return feed


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


async def touch_received(session: AsyncSession, account_id: int, now: datetime) -> None:
    await update_feed(session, account_id, last_received_at=now)
