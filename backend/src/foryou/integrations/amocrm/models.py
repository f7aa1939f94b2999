"""amoCRM connections (one per app user), OAuth flows and the connection audit trail."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, Uuid, false
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


class ClientKind(enum.StrEnum):
    NATIVE = "native"
    WEB = "web"


class AmoCrmConnection(Base):
    __tablename__ = "amocrm_connections"

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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
