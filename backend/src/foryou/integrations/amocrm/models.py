"""amoCRM connections (one per app user), OAuth flows and the connection audit trail."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from foryou.db import Base, UTCDateTime, new_id


class ConnectionStatus(enum.StrEnum):
    ACTIVE = "active"
    REAUTH_REQUIRED = "reauth_required"
    REVOKED = "revoked"
    DISCONNECTED = "disconnected"


class EventKind(enum.StrEnum):
    CONNECTED = "connected"
    REFRESHED = "refreshed"
    REFRESH_FAILED = "refresh_failed"
    DISCONNECTED = "disconnected"
    REVOKED = "revoked"
    REAUTH_REQUIRED = "reauth_required"
    # A disable hook amoCRM did not confirm (the token still works, or no verdict): no change.
    HOOK_UNCONFIRMED = "hook_unconfirmed"
    # Someone other than the flow's owner tried to redeem its ticket; the flow was killed.
    FLOW_HIJACK_REFUSED = "flow_hijack_refused"
    # An app admin ended the connection (`actor_user_id` names them).
    UNLINKED = "unlinked"
    # An app admin asked the broker to connect again.
    RECONNECT_REQUESTED = "reconnect_requested"


#: Statuses in which a connection holds its amoCRM user (one ForYou user per amoCRM user).
LINKED_STATUSES = (ConnectionStatus.ACTIVE.value, ConnectionStatus.REAUTH_REQUIRED.value)
_LINKED = text("status IN ('active', 'reauth_required')")


class ClientKind(enum.StrEnum):
    NATIVE = "native"
    WEB = "web"


class AmoCrmConnection(Base):
    __tablename__ = "amocrm_connections"
    # One amoCRM user is linked to at most one ForYou user per account: the last word when two
    # redemptions race (the service checks first, so this only ever fires on a true race).
    __table_args__ = (
        Index(
            "ux_amocrm_connections_linked_amo_user",
            "account_id",
            "amo_user_id",
            unique=True,
            sqlite_where=_LINKED,
            postgresql_where=_LINKED,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    account_id: Mapped[int] = mapped_column(BigInteger, index=True)
    account_domain: Mapped[str] = mapped_column(String(253))
    base_domain: Mapped[str] = mapped_column(String(40))
    amo_user_id: Mapped[int] = mapped_column(BigInteger)
    amo_user_name: Mapped[str | None] = mapped_column(String(200))
    # amoCRM admins may register the account's webhooks (learnt at connect).
    amo_user_is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_key_id: Mapped[str | None] = mapped_column(String(32))
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Fencing token: every write of the token pair (and every wipe) bumps it; writers
    # compare-and-swap on the value they read.
    version: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refresh_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consecutive refreshes that failed without amoCRM's verdict, and the earliest moment of
    # the next attempt: a failing token endpoint is retried with backoff, never in a loop.
    refresh_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refresh_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the broker last used the CRM through the app (written at most every half hour):
    # the worker warms the caches of those who worked within the last day.
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AmoCrmOAuthFlow(Base):
    __tablename__ = "amocrm_oauth_flows"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    client: Mapped[str] = mapped_column(String(10))
    # SHA-256 of the state and of the browser binder; the raw values are never stored.
    state_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    binder_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The callback's result, pending until the flow's owner redeems the ticket: SHA-256 of
    # the ticket, the token pair sealed to this flow, and the amoCRM identity it belongs to.
    # `pending_until` is cleared with the rest once the ticket is redeemed, refused or expired.
    ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pending_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pending_key_id: Mapped[str | None] = mapped_column(String(32))
    pending_access_enc: Mapped[str | None] = mapped_column(Text)
    pending_refresh_enc: Mapped[str | None] = mapped_column(Text)
    pending_access_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_account_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_account_domain: Mapped[str | None] = mapped_column(String(253))
    pending_base_domain: Mapped[str | None] = mapped_column(String(40))
    pending_amo_user_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_amo_user_name: Mapped[str | None] = mapped_column(String(200))
    pending_amo_user_is_admin: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class AmoCrmConnectionEvent(Base):
    __tablename__ = "amocrm_connection_events"
    __table_args__ = (Index("ix_amocrm_connection_events_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("amocrm_connections.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(60))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    # The app admin behind the event, for those an admin causes (unlink, reconnect request).
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AmoCrmReconnectRequest(Base):
    """An app admin's request that a broker connect again; it stands until the broker's next
    connection (`connected_at` later than `requested_at`), so the connect flow never clears it."""

    __tablename__ = "amocrm_reconnect_requests"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    requested_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(String(500))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
