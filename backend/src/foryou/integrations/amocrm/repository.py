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

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from foryou.auth.models import CurrentUser, User, UserStatus
from foryou.auth.repository import CURRENT_USER_COLUMNS, current_user_from
from foryou.db import rowcount
from foryou.integrations.amocrm.models import (
    LINKED_STATUSES,
    AmoCrmConnection,
    AmoCrmConnectionEvent,
    AmoCrmOAuthFlow,
    AmoCrmReconnectRequest,
    ConnectionStatus,
    EventKind,
)

#: Every column of a flow's pending result, wiped together.
_PENDING_WIPED: dict[str, Any] = {
    "pending_until": None,
    "pending_key_id": None,
    "pending_access_enc": None,
    "pending_refresh_enc": None,
    "pending_access_expires_at": None,
    "pending_account_id": None,
    "pending_account_domain": None,
    "pending_base_domain": None,
    "pending_amo_user_id": None,
    "pending_amo_user_name": None,
    "pending_amo_user_is_admin": False,
}


@dataclass(frozen=True)
class SealedPair:
    """An encrypted token pair with the key id that sealed it."""

    key_id: str
    access_token_enc: str
    refresh_token_enc: str
    access_expires_at: datetime
    refresh_expires_at: datetime


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


def _pair_written(pair: SealedPair, now: datetime) -> dict[str, Any]:
    """Column values that put a new token pair in place: the version bumped (so a refresh
    still in flight loses its compare-and-swap), the lease released, the failures forgotten."""
    return {
        "token_key_id": pair.key_id,
        "access_token_enc": pair.access_token_enc,
        "refresh_token_enc": pair.refresh_token_enc,
        "access_expires_at": pair.access_expires_at,
        "refresh_expires_at": pair.refresh_expires_at,
        "version": AmoCrmConnection.version + 1,
        "lease_owner": None,
        "lease_until": None,
        "refresh_failures": 0,
        "refresh_retry_at": None,
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
    return rowcount(result) == 1


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
    return rowcount(result) == 1


async def kill_flow(session: AsyncSession, flow_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.id == flow_id, AmoCrmOAuthFlow.used_at.is_(None))
        .values(used_at=now)
    )


@dataclass(frozen=True)
class FlowHolder:
    """Whose ForYou account a flow connects (what the start page shows)."""

    email: str
    name: str | None


async def get_flow_holder(session: AsyncSession, flow_id: uuid.UUID) -> FlowHolder | None:
    result = await session.execute(
        select(User.email, User.name)
        .join(AmoCrmOAuthFlow, AmoCrmOAuthFlow.user_id == User.id)
        .where(AmoCrmOAuthFlow.id == flow_id)
    )
    row = result.first()
    return None if row is None else FlowHolder(email=row.email, name=row.name)


@dataclass(frozen=True)
class PendingResult:
    """What the callback verified, waiting on the flow for its owner's ticket."""

    ticket_hash: str
    until: datetime
    key_id: str
    access_token_enc: str
    refresh_token_enc: str
    access_expires_at: datetime
    account_id: int
    account_domain: str
    base_domain: str
    amo_user_id: int
    amo_user_name: str | None
    amo_user_is_admin: bool


async def store_pending(session: AsyncSession, flow_id: uuid.UUID, pending: PendingResult) -> None:
    await session.execute(
        update(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.id == flow_id)
        .values(
            ticket_hash=pending.ticket_hash,
            pending_until=pending.until,
            pending_key_id=pending.key_id,
            pending_access_enc=pending.access_token_enc,
            pending_refresh_enc=pending.refresh_token_enc,
            pending_access_expires_at=pending.access_expires_at,
            pending_account_id=pending.account_id,
            pending_account_domain=pending.account_domain,
            pending_base_domain=pending.base_domain,
            pending_amo_user_id=pending.amo_user_id,
            pending_amo_user_name=pending.amo_user_name,
            pending_amo_user_is_admin=pending.amo_user_is_admin,
        )
    )


async def get_flow_by_ticket(session: AsyncSession, ticket_hash: str) -> AmoCrmOAuthFlow | None:
    result = await session.execute(
        select(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.ticket_hash == ticket_hash)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def take_pending(session: AsyncSession, flow_id: uuid.UUID) -> bool:
    """Wipe the flow's pending result if it is still there; exactly one caller gets True
    (redemption, refusal and expiry all end the ticket through here)."""
    result = await session.execute(
        update(AmoCrmOAuthFlow)
        .where(AmoCrmOAuthFlow.id == flow_id, AmoCrmOAuthFlow.pending_until.is_not(None))
        .values(**_PENDING_WIPED)
    )
    return rowcount(result) == 1


async def wipe_expired_pending(session: AsyncSession, now: datetime) -> int:
    """Pending results nobody redeemed in time lose their tokens."""
    result = await session.execute(
        update(AmoCrmOAuthFlow).where(AmoCrmOAuthFlow.pending_until <= now).values(**_PENDING_WIPED)
    )
    return rowcount(result)


async def purge_flows(session: AsyncSession, expired_before: datetime) -> int:
    """Delete flows long expired, unless their result is still pending (it outlives the flow
    by up to its own lifetime and is wiped first)."""
    result = await session.execute(
        delete(AmoCrmOAuthFlow).where(
            AmoCrmOAuthFlow.expires_at < expired_before,
            AmoCrmOAuthFlow.pending_until.is_(None),
        )
    )
    return rowcount(result)


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
    select(
        *CURRENT_USER_COLUMNS,
        AmoCrmReconnectRequest.requested_at,
        AmoCrmReconnectRequest.note,
        AmoCrmConnection.id,
        *_STANDING_COLUMNS,
    )
    .outerjoin(AmoCrmConnection, AmoCrmConnection.user_id == User.id)
    .outerjoin(AmoCrmReconnectRequest, AmoCrmReconnectRequest.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


@dataclass(frozen=True, slots=True)
class ReconnectRequest:
    """An admin's standing request that the user connect again."""

    requested_at: datetime
    note: str | None


async def get_user_and_standing(
    connection: AsyncConnection, user_id: uuid.UUID
) -> tuple[CurrentUser | None, ConnectionStanding | None, ReconnectRequest | None]:
    """The user, their connection and any reconnect request in one statement: the status
    endpoint's only query."""
    result = await connection.execute(_USER_AND_STANDING, {"user_id": user_id})
    row = result.first()
    if row is None:
        return None, None, None
    values: tuple[Any, ...] = tuple(row)
    user = current_user_from(values)
    first = len(CURRENT_USER_COLUMNS)
    requested_at, note = values[first], values[first + 1]
    reconnect = None if requested_at is None else ReconnectRequest(requested_at, note)
    if values[first + 2] is None:  # no connection row (outer join)
        return user, None, reconnect
    return user, ConnectionStanding(*values[first + 3 :]), reconnect


async def linked_user_of(
    session: AsyncSession, account_id: int, amo_user_id: int
) -> uuid.UUID | None:
    """The ForYou user whose live connection holds this amoCRM user, if any."""
    result = await session.execute(
        select(AmoCrmConnection.user_id).where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.amo_user_id == amo_user_id,
            AmoCrmConnection.status.in_(LINKED_STATUSES),
        )
    )
    return result.scalar_one_or_none()


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
            **_pair_written(pair, now),
            refresh_started_at=None,
            refresh_finished_at=None,
            connected_at=now,
            # Connecting is using the CRM: the worker warms the new broker's first list.
            last_active_at=now,
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
    return rowcount(result) == 1


async def release_refresh_lease(
    session: AsyncSession, connection_id: uuid.UUID, *, owner: str
) -> None:
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id, AmoCrmConnection.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
    )


async def release_unsent_refresh(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    owner: str,
    started_at: datetime | None,
) -> None:
    """Free the lease of a refresh that never reached amoCRM: `refresh_started_at` goes back
    to what it was before the claim, so no rotation looks possibly lost, and no failure is
    counted."""
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id, AmoCrmConnection.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, refresh_started_at=started_at)
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
    return rowcount(result) == 1


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
        # A blocked user's connection is not kept alive: blocking ends its use at once.
        AmoCrmConnection.user_id.not_in(
            select(User.id).where(User.status != UserStatus.ACTIVE.value)
        ),
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
        .values(**_pair_written(pair, now), refresh_finished_at=now, last_refreshed_at=now)
    )
    return rowcount(result) == 1


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
    return rowcount(result) == 1


async def disconnect_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    now: datetime,
    *,
    kind: EventKind,
    actor_user_id: uuid.UUID | None = None,
) -> AmoCrmConnection | None:
    """Wipe the user's tokens, mark the row disconnected and record the event `kind` (by
    `actor_user_id` when someone else ended it); None when there was nothing to end."""
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
    await add_event(
        session,
        user_id=user_id,
        connection_id=connection.id,
        kind=kind,
        account_id=connection.account_id,
        actor_user_id=actor_user_id,
        now=now,
    )
    return connection


async def live_connections_of_account(
    session: AsyncSession, account_id: int
) -> Sequence[AmoCrmConnection]:
    """The account's connections that still hold tokens (what a disable hook may revoke)."""
    result = await session.execute(
        select(AmoCrmConnection)
        .where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
            AmoCrmConnection.token_key_id.is_not(None),
        )
        .order_by(AmoCrmConnection.connected_at.desc())
    )
    return result.scalars().all()


async def revoke_connection(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    expected_version: int,
    reason: str,
    now: datetime,
) -> bool:
    """Revoke the tokens that were checked, and only those: a reconnect or refresh since the
    check bumped `version`, and the newer tokens are left alone."""
    result = await session.execute(
        update(AmoCrmConnection)
        .where(
            AmoCrmConnection.id == connection_id,
            AmoCrmConnection.version == expected_version,
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
        )
        .values(**_tokens_wiped(ConnectionStatus.REVOKED, reason, now))
    )
    return rowcount(result) == 1


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
    return rowcount(result) == 1


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
    actor_user_id: uuid.UUID | None = None,
) -> None:
    session.add(
        AmoCrmConnectionEvent(
            id=uuid.uuid4(),
            user_id=user_id,
            connection_id=connection_id,
            kind=kind.value,
            reason=reason,
            account_id=account_id,
            actor_user_id=actor_user_id,
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
