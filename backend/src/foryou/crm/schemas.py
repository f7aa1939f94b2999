"""CRM requests and the responses the app renders (camelCase on the wire)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import Field, field_validator, model_validator

from foryou.schemas import ApiModel, RequestModel

_PHONE_FORMATTING = re.compile(r"[\s().\-/]")
_PHONE_DIGITS = re.compile(r"^\+?\d{7,15}$")
MAX_ID = 2**53


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
    stage_name: str | None
    stage_color: str | None
    responsible_user_id: int | None
    responsible_user_name: str | None
    contact_name: str | None
    contact_phone: str | None
    updated_at: datetime | None


class LeadPageOut(ApiModel):
    items: list[LeadSummaryOut]
    page: int
    limit: int
    has_more: bool


class ContactValueOut(ApiModel):
    value: str
    type: str | None


class LeadContactOut(ApiModel):
    id: int
    name: str
    is_main: bool
    phones: list[ContactValueOut]
    emails: list[ContactValueOut]


class CustomFieldOut(ApiModel):
    id: int | None
    name: str
    code: str | None
    type: str | None
    values: list[str]


class TagOut(ApiModel):
    id: int | None
    name: str
    color: str | None


class TimelineEntryOut(ApiModel):
    id: str
    kind: Literal["note", "event"]
    type: str
    text: str | None
    created_at: datetime | None
    created_by: int | None
    created_by_name: str | None
    details: dict[str, Any]


class LeadDetailOut(LeadSummaryOut):
    pipeline_name: str | None
    created_at: datetime | None
    closed_at: datetime | None
    contacts: list[LeadContactOut]
    custom_fields: list[CustomFieldOut]
    tags: list[TagOut]
    timeline: list[TimelineEntryOut]


class CreatedLeadOut(ApiModel):
    id: int
    contact_id: int
    note_id: int | None
    task_id: int
    lead: LeadSummaryOut


def normalise_phone(value: str) -> str:
    """`+38 (050) 123-45-67` → `+380501234567`; `00` → `+`; a local number keeps its digits."""
    compact = _PHONE_FORMATTING.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not _PHONE_DIGITS.match(compact):
        raise ValueError("must be a phone number of 7 to 15 digits, optionally starting with +")
    return compact


class NewLeadIn(RequestModel):
    pipeline_id: int = Field(alias="pipelineId", ge=1, le=MAX_ID)
    stage_id: int = Field(alias="stageId", ge=1, le=MAX_ID)
    name: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    price: int | None = Field(default=None, ge=0, le=2_147_483_647)
    comment: str | None = Field(default=None, max_length=10_000)

    @field_validator("name", "comment")
    @classmethod
    def _blank_is_absent(cls, value: str | None) -> str | None:
        if value is None:
            return None
        stripped = value.strip()
        return stripped or None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return normalise_phone(value.strip())

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            checked = validate_email(value.strip(), check_deliverability=False)
        except EmailNotValidError:
            raise ValueError("must be a valid e-mail address") from None
        return checked.normalized

    @model_validator(mode="after")
    def _someone_to_call(self) -> NewLeadIn:
        if not (self.name or self.phone or self.email):
            raise ValueError("at least one of name, phone or email is required")
        return self


class LeadPatchIn(RequestModel):
    """A change of a lead; at least one field."""

    status_id: int | None = Field(default=None, alias="statusId", ge=1, le=MAX_ID)
    pipeline_id: int | None = Field(default=None, alias="pipelineId", ge=1, le=MAX_ID)
    price: int | None = Field(default=None, ge=0, le=2_147_483_647)
    name: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> LeadPatchIn:
        if all(v is None for v in (self.status_id, self.pipeline_id, self.price, self.name)):
            raise ValueError("at least one of statusId, pipelineId, price, name is required")
        return self


class NoteIn(RequestModel):
    text: str = Field(min_length=1, max_length=4000)

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class NoteAuthorOut(ApiModel):
    id: int
    name: str | None


class NoteOut(ApiModel):
    id: int
    text: str
    created_at: datetime
    created_by: NoteAuthorOut


class TaskLeadOut(ApiModel):
    id: int
    name: str


class TaskContactOut(ApiModel):
    name: str
    phone: str | None


class TaskOut(ApiModel):
    id: int
    text: str
    type: Literal["call", "meeting", "other"]
    type_id: int | None
    type_name: str | None
    due_at: datetime | None
    is_completed: bool
    lead: TaskLeadOut | None
    contact: TaskContactOut | None


class TaskCountsOut(ApiModel):
    overdue: int
    today: int
    upcoming: int


class TaskBoardOut(ApiModel):
    overdue: list[TaskOut]
    today: list[TaskOut]
    upcoming: list[TaskOut]
    counts: TaskCountsOut


class NewTaskIn(RequestModel):
    lead_id: int = Field(alias="leadId", ge=1, le=MAX_ID)
    type: Literal["call", "meeting"]
    text: str | None = Field(default=None, max_length=2000)
    due_at: datetime = Field(alias="dueAt")

    @field_validator("due_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a timezone (ISO 8601 with Z or an offset)")
        return value


class CompleteTaskIn(RequestModel):
    result: str = Field(min_length=1, max_length=2000)

    @field_validator("result")
    @classmethod
    def _result(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value
