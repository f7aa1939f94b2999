"""The agency connection: one per amoCRM account, for account-level work only."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from foryou.db import Base, UTCDateTime, new_id


class AgencySource(enum.StrEnum):
    # A long-lived token an amoCRM admin generated in the integration's «Ключи» tab.
    LONG_LIVED_TOKEN = "long_lived_token"  # noqa: S105 - a source's name, not a secret
    # An app admin's own OAuth connection (an amoCRM admin), with its refresh lifecycle.
    OAUTH = "oauth"


class AgencyStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class AgencyConnection(Base):
    __tablename__ = "amocrm_agency_connections"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    account_domain: Mapped[str] = mapped_column(String(253))
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    # source = oauth: the connection whose tokens are used (its refresh lifecycle applies).
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("amocrm_connections.id", ondelete="CASCADE")
    )
    amo_user_id: Mapped[int] = mapped_column(BigInteger)
    amo_user_name: Mapped[str | None] = mapped_column(String(200))
    # source = long_lived_token: the token, sealed like every token, bound to this row.
    token_key_id: Mapped[str | None] = mapped_column(String(32))
    token_enc: Mapped[str | None] = mapped_column(Text)
    token_last4: Mapped[str | None] = mapped_column(String(4))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    set_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
