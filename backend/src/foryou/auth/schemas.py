"""Login and current-user payloads."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field

from foryou.schemas import ApiModel, RequestModel


class LoginIn(RequestModel):
    email: Annotated[str, Field(min_length=3, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class UserOut(ApiModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    status: str


class LoginOut(ApiModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    user: UserOut
