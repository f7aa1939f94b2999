"""Plain records of everything the emulator keeps.

Every record is a flat dataclass of JSON-friendly values (nested custom-field values stay as
dicts, the way amoCRM sends them), so the whole state can be written to and read from a JSON
file without a mapping layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["admin", "broker"]
LeadsView = Literal["own", "group", "all"]
RefreshStatus = Literal["current", "previous", "spent", "revoked"]

JSONDict = dict[str, Any]


@dataclass
class Account:
    id: int
    name: str
    subdomain: str
    base_domain: str  # "amocrm.ru" or "kommo.com"
    api_domain: str  # "api-b.amocrm.ru" / "api-c.kommo.com"
    country: str
    currency: str
    currency_symbol: str
    created_at: int
    is_technical_account: bool = False
    amojo_id: str = ""
    uuid: str = ""

    @property
    def host(self) -> str:
        return f"{self.subdomain}.{self.base_domain}"

    @property
    def platform(self) -> int:
        return 2 if self.base_domain == "kommo.com" else 1

    @property
    def is_kommo(self) -> bool:
        return self.base_domain == "kommo.com"


@dataclass
class User:
    """A person who can sign in; one id across every account they belong to."""

    id: int
    name: str
    login: str
    password: str
    lang: str = "ru"
    uuid: str = ""


@dataclass
class Membership:
    """A user's place in one account: role, group and what leads they may see."""

    user_id: int
    account_id: int
    role: Role
    group_id: int
    leads_view: LeadsView
    is_active: bool = True


@dataclass
class Group:
    id: int
    account_id: int
    name: str


@dataclass
class Status:
    id: int
    name: str
    sort: int
    color: str
    type: int  # 0 regular, 1 unsorted
    is_editable: bool = True


@dataclass
class Pipeline:
    id: int
    account_id: int
    name: str
    sort: int
    is_main: bool
    statuses: list[Status] = field(default_factory=list)
    is_unsorted_on: bool = True
    is_archive: bool = False


@dataclass
class CustomField:
    id: int
    account_id: int
    entity_type: str  # "leads" or "contacts"
    name: str
    code: str | None
    type: str  # "text", "numeric", "select", "multitext", ...
    sort: int
    enums: list[JSONDict] | None = None


@dataclass
class Tag:
    id: int
    account_id: int
    entity_type: str
    name: str
    color: str | None


@dataclass
class Lead:
    id: int
    account_id: int
    name: str
    price: int
    responsible_user_id: int
    group_id: int
    status_id: int
    pipeline_id: int
    created_by: int
    updated_by: int
    created_at: int
    updated_at: int
    closed_at: int | None = None
    loss_reason_id: int | None = None
    custom_fields_values: list[JSONDict] | None = None
    tag_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    main_contact_id: int | None = None
    is_deleted: bool = False


@dataclass
class Contact:
    id: int
    account_id: int
    name: str
    first_name: str
    last_name: str
    responsible_user_id: int
    group_id: int
    created_by: int
    updated_by: int
    created_at: int
    updated_at: int
    custom_fields_values: list[JSONDict] | None = None
    tag_ids: list[int] = field(default_factory=list)
    is_deleted: bool = False


@dataclass
class Note:
    id: int
    account_id: int
    entity_type: str
    entity_id: int
    note_type: str
    params: JSONDict
    responsible_user_id: int
    group_id: int
    created_by: int
    updated_by: int
    created_at: int
    updated_at: int


@dataclass
class Task:
    id: int
    account_id: int
    entity_type: str | None
    entity_id: int | None
    responsible_user_id: int
    group_id: int
    task_type_id: int
    text: str
    complete_till: int
    duration: int
    is_completed: bool
    result: JSONDict
    created_by: int
    updated_by: int
    created_at: int
    updated_at: int


@dataclass
class Event:
    id: str
    account_id: int
    type: str
    entity_type: str  # singular: "lead", "contact", "task"
    entity_id: int
    created_by: int
    created_at: int
    value_after: list[JSONDict] = field(default_factory=list)
    value_before: list[JSONDict] = field(default_factory=list)


@dataclass
class Webhook:
    """An account webhook (`/api/v4/webhooks`): one per destination, whoever registered it."""

    id: int
    account_id: int
    destination: str
    settings: list[str]
    sort: int
    created_by: int
    created_at: int
    updated_at: int
    disabled: bool = False
    # Emulator-clock times of invalid answers, for the auto-disable rule.
    failures: list[float] = field(default_factory=list)


@dataclass
class Integration:
    client_id: str
    client_secret: str
    redirect_uri: str
    disable_hook_url: str | None
    name: str
    from_flags: bool = False


@dataclass
class AuthCode:
    code: str
    client_id: str
    account_id: int
    user_id: int
    redirect_uri: str
    issued_at: int
    used: bool = False


@dataclass
class AccessToken:
    jti: str
    token: str
    client_id: str
    account_id: int
    user_id: int
    issued_at: int
    expires_at: int
    revoked: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    account_id: int
    user_id: int
    issued_at: int
    expires_at: int
    access_jti: str
    status: RefreshStatus = "current"
    # The refresh token issued when this one was spent; in grace mode the old one stays
    # usable until its successor is used.
    successor: str | None = None
