"""Bodies of the live-updates endpoints."""

from __future__ import annotations

from datetime import datetime

from foryou.schemas import ApiModel


class StreamTicketOut(ApiModel):
    ticket: str
    expires_at: datetime


class WebhookAccepted(ApiModel):
    accepted: int
