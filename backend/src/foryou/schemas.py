"""The response envelope and the base for API schemas (camelCase on the wire)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class ApiModel(BaseModel):
    """Response schema: snake_case in Python, camelCase in JSON."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RequestModel(BaseModel):
    """Request body: unknown fields are rejected, strings are bounded by each field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Envelope(ApiModel, Generic[T]):
    success: Literal[True] = True
    data: T


class MessageEnvelope(ApiModel):
    success: Literal[True] = True
    message: str


class ErrorDetail(ApiModel):
    code: str
    message: str
    request_id: str
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(ApiModel):
    success: Literal[False] = False
    error: ErrorDetail


def ok(data: T) -> Envelope[T]:
    return Envelope[T](data=data)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error envelope for each status."""
    return {status: {"model": ErrorEnvelope} for status in statuses}
