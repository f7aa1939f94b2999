"""Payloads of the admin endpoints. No field ever carries a token."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field

from foryou.schemas import ApiModel, RequestModel

T = TypeVar("T")

BrokerState = Literal["active", "reauth_required", "revoked", "disconnected", "never_connected"]
AgencyHealth = Literal["active", "expiring", "expired", "revoked", "none"]


class PageOut(ApiModel, Generic[T]):
    items: list[T]
    page: int
    limit: int
    total: int
    has_more: bool


class BrokerOut(ApiModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    user_status: str
    state: BrokerState
    reason: str | None
    domain: str | None
    amo_user_id: int | None
    amo_user_name: str | None
    last_refreshed_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    connected_since: datetime | None
    reconnect_requested: bool
    reconnect_note: str | None
    last_active_at: datetime | None = Field(
        description="When the broker last used the CRM through the app or connected "
        "(recorded at most every half hour)."
    )


class EventOut(ApiModel):
    id: uuid.UUID
    kind: str
    reason: str | None
    account_id: int | None
    actor_user_id: uuid.UUID | None
    created_at: datetime


class ReconnectIn(RequestModel):
    note: Annotated[str | None, Field(max_length=500)] = None


class AgencyTokenIn(RequestModel):
    domain: Annotated[str, Field(min_length=4, max_length=253)]
    token: Annotated[str, Field(min_length=1, max_length=8192)]


class AgencyOut(ApiModel):
    health: AgencyHealth
    source: Literal["long_lived_token", "oauth"] | None
    domain: str | None
    account_id: int | None
    amo_user_id: int | None
    amo_user_name: str | None
    expires_at: datetime | None
    token_last4: str | None
    last_checked_at: datetime | None
    expiring_soon: bool


class AdminUserOut(ApiModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    status: Literal["ACTIVE", "BLOCKED"]
    created_at: datetime


class CreateUserIn(RequestModel):
    email: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    # Omitted: a one-time password is generated and shown once in the answer.
    password: Annotated[str | None, Field(min_length=8, max_length=256)] = None


class CreatedUserOut(ApiModel):
    user: AdminUserOut
    one_time_password: str | None
