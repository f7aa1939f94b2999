"""How amoCRM's changes of each account reach us: the webhook's secret and the events cursor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from foryou.db import Base, UTCDateTime


class AccountFeed(Base):
    """One row per amoCRM account whose changes we follow.

    The webhook's destination carries a random key; only its SHA-256 is stored, so the table
    alone does not let anyone post changes. Without a webhook (no admin to register it), the
    events poll reads `GET /api/v4/events` from `events_cursor` on.
    """

    __tablename__ = "amocrm_account_feeds"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When amoCRM last confirmed the webhook (registered, enabled); None: not registered.
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Unix time of the newest event read by the poll.
    events_cursor: Mapped[int | None] = mapped_column(BigInteger)
