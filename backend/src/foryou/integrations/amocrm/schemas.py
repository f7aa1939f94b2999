"""Payloads of the amo-crm integration endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from foryou.integrations.amocrm.models import ClientKind
from foryou.schemas import ApiModel, RequestModel


class StatusOut(ApiModel):
    connected: bool
    has_tokens: bool
    domain: str | None
    account_id: int | None
    state: Literal["not_connected", "connected", "reauth_required"]
    reason: str | None
    amo_user_id: int | None
    amo_user_name: str | None
    connected_at: datetime | None
    reconnect_requested: bool
    reconnect_note: str | None


class AuthorizeIn(RequestModel):
    client: ClientKind = ClientKind.NATIVE


class AuthorizeOut(ApiModel):
    authorize_url: str
    expires_at: datetime


def _platform_text(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class ExchangeCodeIn(RequestModel):
    code: Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^[A-Za-z0-9._~-]+$")]
    state: Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]
    referer: Annotated[str, Field(min_length=4, max_length=253)]
    # amoCRM sends it as a query string; an app forwarding it may send the number.
    platform: Annotated[Literal["1", "2"] | None, BeforeValidator(_platform_text)] = None


class CompleteIn(RequestModel):
    # Checked by the service: any malformed ticket is `amo_ticket_invalid`, like an unknown one.
    ticket: Annotated[str, Field(max_length=512)]
