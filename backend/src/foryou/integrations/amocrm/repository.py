"""Every query on amoCRM connections, OAuth flows and connection events.

Token writes are single conditional UPDATEs: a lease is claimed only when free, a new token
pair is written only when `version` still holds the value the writer read (compare-and-swap),
and every wipe bumps `version` so a late writer can never resurrect tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from foryou.auth.models import CurrentUser, User
from foryou.auth.repository import CURRENT_USER_COLUMNS, current_user_from
from foryou.integrations.amocrm.models import (
    AmoCrmConnection,
    AmoCrmConnectionEvent,
    AmoCrmOAuthFlow,
    ConnectionStatus,
    EventKind,
)


@dataclass(frozen=True)
class SealedPair:
    """An encrypted token pair with the key id that sealed it."""

    key_id: str
    access_token_enc: str
    refresh_token_enc: str
    access_expires_at: datetime
    refresh_expires_at: datetime


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _tokens_wiped(status: ConnectionStatus, reason: str | None, now: datetime) -> dict[str, Any]:
    """Column values that end a connection's tokens: ciphertexts gone, any lease dropped, and
    the version bumped so a refresh still in flight loses its compare-and-swap."""
    return {
        "status": status.value,
        "reason": reason,
        "token_key_id": None,
        "access_token_enc": None,
        "refresh_token_enc": None,
        "version": AmoCrmConnection.version + 1,
        "lease_owner": None,
        "lease_until": None,
        "updated_at": now,
    }


# --- flows -------------------------------------------------------------------------------


async def add_flow(session: AsyncSession, flow: AmoCrmOAuthFlow) -> None:
    session.add(flow)
    await session.flush()


async def count_flows_since(session: AsyncSession, user_id: uuid.UUID, since: datetime) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.user_id == user_id, AmoCrmOAuthFlow.created_at >= since)
    )
    return int(result.scalar_one())


async def get_flow(session: AsyncSession, flow_id: uuid.UUID) -> AmoCrmOAuthFlow | None:
    result = await session.execute(
        select(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.id == flow_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_flow_by_state(session: AsyncSession, state_hash: str) -> AmoCrmOAuthFlow | None:
    result = await session.execute(
        select(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.state_hash == state_hash)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def start_flow(
    session: AsyncSession, flow_id: uuid.UUID, state_hash: str, binder_hash: str, now: datetime
) -> bool:
    """Attach state and binder once; a flow link opened a second time does nothing."""
    result = await session.execute(
        update(AmoCrmOAuthFlow)
        .where(
            AmoCrmOAuthFlow.id == flow_id,
            AmoCrmOAuthFlow.started_at.is_(None),
            AmoCrmOAuthFlow.used_at.is_(None),
            AmoCrmOAuthFlow.expires_at > now,
        )
        .values(state_hash=state_hash, binder_hash=binder_hash, started_at=now)
    )
    return _rowcount(result) == 1


async def consume_flow(session: AsyncSession, flow_id: uuid.UUID, now: datetime) -> bool:
    """Mark the flow used if it is live; exactly one caller ever gets True."""
    result = await session.execute(
        update(AmoCrmOAuthFlow)
        .where(
            AmoCrmOAuthFlow.id == flow_id,
            AmoCrmOAuthFlow.used_at.is_(None),
            AmoCrmOAuthFlow.expires_at > now,
        )
        .values(used_at=now)
    )
    return _rowcount(result) == 1


async def kill_flow(session: AsyncSession, flow_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.id == flow_id, AmoCrmOAuthFlow.used_at.is_(None))
        .values(used_at=now)
    )


async def purge_flows(session: AsyncSession, expired_before: datetime) -> int:
    result = await session.execute(
        delete(AmoCrmOAuthFlow).where(AmoCrmOAuthFlow.expires_at < expired_before)
    )
    return _rowcount(result)


# --- connections -------------------------------------------------------------------------


async def get_connection(
    session: AsyncSession, connection_id: uuid.UUID
) -> AmoCrmConnection | None:
    result = await session.execute(
        select(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_connection_for_user(
    session: AsyncSession, user_id: uuid.UUID
) -> AmoCrmConnection | None:
    result = await session.execute(
        select(AmoCrmConnection)
        .where(AmoCrmConnection.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class ConnectionStanding:
    """What the status endpoint shows of a connection; no token material."""

    status: str
    reason: str | None
    account_id: int
    account_domain: str
    amo_user_id: int
    amo_user_name: str | None
    token_key_id: str | None
    connected_at: datetime | None


_STANDING_COLUMNS = (
    AmoCrmConnection.status,
    AmoCrmConnection.reason,
    AmoCrmConnection.account_id,
    AmoCrmConnection.account_domain,
    AmoCrmConnection.amo_user_id,
    AmoCrmConnection.amo_user_name,
    AmoCrmConnection.token_key_id,
    AmoCrmConnection.connected_at,
)


# Built once: executing the very statement object that was compiled and cached skips
# building the query and re-mapping its result columns on every request.
_USER_AND_STANDING = (
    select(*CURRENT_USER_COLUMNS, AmoCrmConnection.id, *_STANDING_COLUMNS)
    .outerjoin(AmoCrmConnection, AmoCrmConnection.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


async def get_user_and_standing(
    connection: AsyncConnection, user_id: uuid.UUID
) -> tuple[CurrentUser | None, ConnectionStanding | None]:
    """The user and their connection in one statement: the status endpoint's only query."""
    result = await connection.execute(_USER_AND_STANDING, {"user_id": user_id})
    row = result.first()
    if row is None:
        return None, None
    values: tuple[Any, ...] = tuple(row)
    user = current_user_from(values)
    first = len(CURRENT_USER_COLUMNS)
    if values[first] is None:  # no connection row (outer join)
        return user, None
    return user, ConnectionStanding(*values[first + 1 :])


async def list_connections(session: AsyncSession) -> Sequence[AmoCrmConnection]:
    result = await session.execute(select(AmoCrmConnection).order_by(AmoCrmConnection.created_at))
    return result.scalars().all()


async def add_connection(session: AsyncSession, connection: AmoCrmConnection) -> None:
    session.add(connection)
    await session.flush()


async def store_connected(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    pair: SealedPair,
    account_id: int,
    account_domain: str,
    base_domain: str,
    amo_user_id: int,
    amo_user_name: str | None,
    amo_user_is_admin: bool,
    now: datetime,
) -> None:
    """A (re)connection: new identity and tokens replace everything, leases included."""
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id)
        .values(
            status=ConnectionStatus.ACTIVE.value,
            reason=None,
            account_id=account_id,
            account_domain=account_domain,
            base_domain=base_domain,
            amo_user_id=amo_user_id,
            amo_user_name=amo_user_name,
            amo_user_is_admin=amo_user_is_admin,
            token_key_id=pair.key_id,
            access_token_enc=pair.access_token_enc,
            refresh_token_enc=pair.refresh_token_enc,
            access_expires_at=pair.access_expires_at,
            refresh_expires_at=pair.refresh_expires_at,
            version=AmoCrmConnection.version + 1,
            lease_owner=None,
            lease_until=None,
            refresh_started_at=None,
            refresh_finished_at=None,
            refresh_failures=0,
            refresh_retry_at=None,
            connected_at=now,
            updated_at=now,
        )
    )


async def claim_refresh_lease(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    owner: str,
    expected_version: int,
    now: datetime,
    lease_until: datetime,
) -> bool:
    """Take the refresh lease if nobody holds a live one and the tokens are unchanged."""
    result = await session.execute(
        update(AmoCrmConnection)
        .where(
            AmoCrmConnection.id == connection_id,
            AmoCrmConnection.version == expected_version,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
            or_(AmoCrmConnection.lease_until.is_(None), AmoCrmConnection.lease_until <= now),
        )
        .values(lease_owner=owner, lease_until=lease_until, refresh_started_at=now)
    )
    return _rowcount(result) == 1


async def release_refresh_lease(
    session: AsyncSession, connection_id: uuid.UUID, *, owner: str
) -> None:
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id, AmoCrmConnection.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def renew_refresh_lease(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    owner: str,
    expected_version: int,
    lease_until: datetime,
) -> bool:
    """Extend our own lease while a refreshed pair waits to be written."""
    result = await session.execute(
        update(AmoCrmConnection)
        .where(
            AmoCrmConnection.id == connection_id,
            AmoCrmConnection.lease_owner == owner,
            AmoCrmConnection.version == expected_version,
        )
        .values(lease_until=lease_until)
    )
    return _rowcount(result) == 1


async def release_after_failure(
    session: AsyncSession, connection_id: uuid.UUID, *, owner: str, retry_at: datetime
) -> None:
    """A refresh failed without a verdict: free the lease, hold the next try until retry_at.

    `refresh_started_at` stays newer than `refresh_finished_at` on purpose: amoCRM may have
    rotated the token, and the next attempt must know it."""
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id, AmoCrmConnection.lease_owner == owner)
        .values(
            lease_owner=None,
            lease_until=None,
            refresh_failures=AmoCrmConnection.refresh_failures + 1,
            refresh_retry_at=retry_at,
        )
    )


def _due_filter(now: datetime, refresh_before: datetime, stale_before: datetime) -> Any:
    return and_(
        AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
        AmoCrmConnection.token_key_id.is_not(None),
        or_(AmoCrmConnection.lease_until.is_(None), AmoCrmConnection.lease_until <= now),
        or_(AmoCrmConnection.refresh_retry_at.is_(None), AmoCrmConnection.refresh_retry_at <= now),
        or_(
            AmoCrmConnection.access_expires_at.is_(None),
            AmoCrmConnection.access_expires_at <= refresh_before,
            func.coalesce(AmoCrmConnection.last_refreshed_at, AmoCrmConnection.connected_at)
            <= stale_before,
        ),
    )


async def count_due(
    session: AsyncSession, *, now: datetime, refresh_before: datetime, stale_before: datetime
) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(AmoCrmConnection)
        .where(_due_filter(now, refresh_before, stale_before))
    )
    return int(result.scalar_one())


async def claim_due_connection(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    refresh_before: datetime,
    stale_before: datetime,
    lease_until: datetime,
    exclude: Sequence[uuid.UUID] = (),
) -> AmoCrmConnection | None:
    """Claim the refresh lease of one connection due for a keep-alive refresh.

    On PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`, so several
    workers each take a different row without waiting on one another; the lease is then
    claimed with the same conditional UPDATE as on the request path (which alone is enough
    on SQLite, where writers are serialised). Returns the row as read before the claim.
    """
    query = (
        select(AmoCrmConnection)
        .where(_due_filter(now, refresh_before, stale_before))
        .order_by(AmoCrmConnection.access_expires_at)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if exclude:
        query = query.where(AmoCrmConnection.id.not_in(list(exclude)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    connection = (await session.execute(query)).scalar_one_or_none()
    if connection is None:
        return None
    # Detached, so the claim below does not rewrite it: the caller needs the row as it was
    # (an unfinished earlier refresh must stay visible).
    session.expunge(connection)
    claimed = await claim_refresh_lease(
        session,
        connection.id,
        owner=owner,
        expected_version=connection.version,
        now=now,
        lease_until=lease_until,
    )
    return connection if claimed else None


async def write_refreshed_pair(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    expected_version: int,
    pair: SealedPair,
    now: datetime,
) -> bool:
    """Compare-and-swap the new pair in; False when someone else changed the row first."""
    result = await session.execute(
        update(AmoCrmConnection)
        .where(
            AmoCrmConnection.id == connection_id,
            AmoCrmConnection.version == expected_version,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
        )
        .values(
            token_key_id=pair.key_id,
            access_token_enc=pair.access_token_enc,
            refresh_token_enc=pair.refresh_token_enc,
            access_expires_at=pair.access_expires_at,
            refresh_expires_at=pair.refresh_expires_at,
            version=AmoCrmConnection.version + 1,
            lease_owner=None,
            lease_until=None,
            refresh_finished_at=now,
            last_refreshed_at=now,
            refresh_failures=0,
            refresh_retry_at=None,
            updated_at=now,
        )
    )
    return _rowcount(result) == 1


async def mark_reauth_required(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    expected_version: int,
    reason: str,
    now: datetime,
) -> bool:
    """Dead tokens are wiped, the row and its identity stay so status can explain why."""
    result = await session.execute(
        update(AmoCrmConnection)
        .where(
            AmoCrmConnection.id == connection_id,
            AmoCrmConnection.version == expected_version,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
        )
        .values(
            **_tokens_wiped(ConnectionStatus.REAUTH_REQUIRED, reason, now),
            refresh_finished_at=now,
        )
    )
    return _rowcount(result) == 1


async def disconnect_user(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> AmoCrmConnection | None:
    """Wipe the user's tokens and mark the row disconnected; None when there was nothing."""
    connection = await get_connection_for_user(session, user_id)
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED.value:
        return None
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection.id)
        .values(
            **_tokens_wiped(ConnectionStatus.DISCONNECTED, None, now),
            access_expires_at=None,
            refresh_expires_at=None,
        )
    )
    return connection


async def revoke_account(
    session: AsyncSession, account_id: int, reason: str, now: datetime
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """amoCRM disabled the integration for an account: every live connection there dies."""
    result = await session.execute(
        select(AmoCrmConnection.id, AmoCrmConnection.user_id).where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.status.in_(
                [ConnectionStatus.ACTIVE.value, ConnectionStatus.REAUTH_REQUIRED.value]
            ),
        )
    )
    affected = [(row.id, row.user_id) for row in result]
    if affected:
        await session.execute(
            update(AmoCrmConnection)
            .where(AmoCrmConnection.id.in_([connection_id for connection_id, _ in affected]))
            .values(**_tokens_wiped(ConnectionStatus.REVOKED, reason, now))
        )
    return affected


async def connections_with_tokens(session: AsyncSession) -> Sequence[AmoCrmConnection]:
    result = await session.execute(
        select(AmoCrmConnection).where(AmoCrmConnection.token_key_id.is_not(None))
    )
    return result.scalars().all()


async def rewrite_ciphertexts(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    expected_version: int,
    key_id: str,
    access_token_enc: str,
    refresh_token_enc: str,
) -> bool:
    """Key rotation: same tokens under a new key; `version` is left alone on purpose so an
    in-flight refresh that read the old ciphertext can still commit its new pair."""
    result = await session.execute(
        update(AmoCrmConnection)
        .where(
            and_(
                AmoCrmConnection.id == connection_id,
                AmoCrmConnection.version == expected_version,
            )
        )
        .values(
            token_key_id=key_id,
            access_token_enc=access_token_enc,
            refresh_token_enc=refresh_token_enc,
        )
    )
    return _rowcount(result) == 1


# --- events ------------------------------------------------------------------------------


async def add_event(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    connection_id: uuid.UUID | None,
    kind: EventKind,
    now: datetime,
    reason: str | None = None,
    account_id: int | None = None,
) -> None:
    session.add(
        AmoCrmConnectionEvent(
            id=uuid.uuid4(),
            user_id=user_id,
            connection_id=connection_id,
            kind=kind.value,
            reason=reason,
            account_id=account_id,
            created_at=now,
        )
    )
    await session.flush()


async def list_events(session: AsyncSession, user_id: uuid.UUID) -> Sequence[AmoCrmConnectionEvent]:
    result = await session.execute(
        select(AmoCrmConnectionEvent)
        .where(AmoCrmConnectionEvent.user_id == user_id)
        .order_by(AmoCrmConnectionEvent.created_at)
    )
    return result.scalars().all()
