"""App users."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from foryou.db import Base, UTCDateTime, new_id


class Role(enum.StrEnum):
    BROKER = "BROKER"
    ADMIN = "ADMIN"
    CLIENT = "CLIENT"
    INVESTOR = "INVESTOR"


class UserStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"


# Roles that work with the agency's CRM through their own amoCRM user.
CRM_ROLES = frozenset({Role.BROKER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who is calling: what a request needs to know about its user, nothing secret."""

    id: uuid.UUID
    email: str
    name: str
    role: str
    status: str


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=UserStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
