"""What the CRM tab shows, and how it is read out of amoCRM's API v4 payloads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from foryou.integrations.amocrm.errors import AmoBadResponse

# amoCRM's fixed system stages: 142 "won", 143 "lost" in every pipeline.
WON_STATUS_ID = 142
LOST_STATUS_ID = 143


@dataclass(frozen=True)
class Broker:
    """The app user behind a CRM request."""

    user_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class Stage:
    id: int
    name: str
    color: str | None
    sort: int
    type: str
    # amoCRM's system stage "Неразобранное" (status type 1): no lead can be moved into it.
    is_unsorted: bool = False


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    sort: int
    is_main: bool
    stages: list[Stage]


@dataclass(frozen=True)
class LeadSummary:
    id: int
    name: str
    price: int | None
    stage_id: int | None
    pipeline_id: int | None
    stage_name: str | None
    stage_color: str | None
    responsible_user_id: int | None
    responsible_user_name: str | None
    contact_name: str | None
    contact_phone: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class LeadPage:
    items: list[LeadSummary]
    page: int
    limit: int
    has_more: bool


@dataclass(frozen=True)
class LeadQuery:
    pipeline_id: int | None = None
    stage_id: int | None = None
    query: str | None = None
    mine: bool = True
    page: int = 1
    limit: int = 25


@dataclass(frozen=True)
class ContactValue:
    value: str
    type: str | None


@dataclass(frozen=True)
class LeadContact:
    id: int
    name: str
    is_main: bool
    phones: list[ContactValue]
    emails: list[ContactValue]


@dataclass(frozen=True)
class CustomField:
    id: int | None
    name: str
    code: str | None
    type: str | None
    values: list[str]


@dataclass(frozen=True)
class Tag:
    id: int | None
    name: str
    color: str | None


@dataclass(frozen=True)
class TimelineEntry:
    id: str
    kind: str  # "note" | "event"
    type: str
    text: str | None
    created_at: datetime | None
    created_by: int | None
    created_by_name: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LeadDetail:
    summary: LeadSummary
    pipeline_name: str | None
    created_at: datetime | None
    closed_at: datetime | None
    contacts: list[LeadContact]
    custom_fields: list[CustomField]
    tags: list[Tag]
    timeline: list[TimelineEntry]


# ---- reading amoCRM payloads -------------------------------------------------------------


def embedded(body: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    if body is None:
        return []
    holder = body.get("_embedded")
    items = holder.get(key, []) if isinstance(holder, dict) else []
    if not isinstance(items, list):
        raise AmoBadResponse(f"unexpected {key} payload")
    return [item for item in items if isinstance(item, dict)]


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def timestamp(value: Any) -> datetime | None:
    seconds = as_int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def has_next_page(body: dict[str, Any] | None) -> bool:
    links = body.get("_links") if body else None
    return isinstance(links, dict) and bool(links.get("next"))


def stage_type(status_id: int) -> str:
    if status_id == WON_STATUS_ID:
        return "won"
    if status_id == LOST_STATUS_ID:
        return "lost"
    return "open"


def parse_pipelines(body: dict[str, Any] | None) -> list[Pipeline]:
    pipelines = []
    for raw in embedded(body, "pipelines"):
        pipeline_id = as_int(raw.get("id"))
        if pipeline_id is None:
            continue
        stages = [
            Stage(
                id=status_id,
                name=as_text(status.get("name")) or "",
                color=as_text(status.get("color")),
                sort=as_int(status.get("sort")) or 0,
                type=stage_type(status_id),
                is_unsorted=status.get("type") == 1,
            )
            for status in embedded(raw, "statuses")
            if (status_id := as_int(status.get("id"))) is not None
        ]
        pipelines.append(
            Pipeline(
                id=pipeline_id,
                name=as_text(raw.get("name")) or "",
                sort=as_int(raw.get("sort")) or 0,
                is_main=raw.get("is_main") is True,
                stages=sorted(stages, key=lambda stage: (stage.sort, stage.id)),
            )
        )
    return sorted(pipelines, key=lambda pipeline: (pipeline.sort, pipeline.id))


def field_values(entity: dict[str, Any], code: str) -> list[ContactValue]:
    """Values of a predefined multitext field (PHONE, EMAIL) of a contact."""
    found = []
    for entry in entity.get("custom_fields_values") or []:
        if not isinstance(entry, dict) or entry.get("field_code") != code:
            continue
        for item in entry.get("values") or []:
            value = as_text(item.get("value")) if isinstance(item, dict) else None
            if value:
                found.append(ContactValue(value=value, type=as_text(item.get("enum_code"))))
    return found


def main_contact_id(raw_lead: dict[str, Any]) -> int | None:
    linked = embedded(raw_lead, "contacts")
    main = next((c for c in linked if c.get("is_main") is True), linked[0] if linked else None)
    return as_int(main.get("id")) if main else None


def parse_contact(raw: dict[str, Any], *, is_main: bool) -> LeadContact | None:
    contact_id = as_int(raw.get("id"))
    if contact_id is None:
        return None
    return LeadContact(
        id=contact_id,
        name=as_text(raw.get("name")) or "",
        is_main=is_main,
        phones=field_values(raw, "PHONE"),
        emails=field_values(raw, "EMAIL"),
    )


def parse_custom_fields(raw_lead: dict[str, Any]) -> list[CustomField]:
    fields = []
    for entry in raw_lead.get("custom_fields_values") or []:
        if not isinstance(entry, dict):
            continue
        values = [
            str(item["value"])
            for item in entry.get("values") or []
            if isinstance(item, dict) and item.get("value") not in (None, "")
        ]
        fields.append(
            CustomField(
                id=as_int(entry.get("field_id")),
                name=as_text(entry.get("field_name")) or "",
                code=as_text(entry.get("field_code")),
                type=as_text(entry.get("field_type")),
                values=values,
            )
        )
    return fields


def parse_tags(raw_lead: dict[str, Any]) -> list[Tag]:
    return [
        Tag(id=as_int(tag.get("id")), name=name, color=as_text(tag.get("color")))
        for tag in embedded(raw_lead, "tags")
        if (name := as_text(tag.get("name")))
    ]
