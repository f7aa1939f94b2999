"""CRM responses the app renders."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from foryou.schemas import ApiModel


class StageOut(ApiModel):
    id: int
    name: str
    color: str | None
    sort: int
    type: Literal["open", "won", "lost"]


class PipelineOut(ApiModel):
    id: int
    name: str
    sort: int
    is_main: bool
    stages: list[StageOut]


class PipelineList(ApiModel):
    items: list[PipelineOut]


class LeadSummaryOut(ApiModel):
    id: int
    name: str
    price: int | None
    stage_id: int | None
    pipeline_id: int | None
    responsible_user_id: int | None
    responsible_user_name: str | None
    contact_name: str | None
    contact_phone: str | None
    updated_at: datetime | None


class LeadPageOut(ApiModel):
    items: list[LeadSummaryOut]
    page: int
    has_more: bool
