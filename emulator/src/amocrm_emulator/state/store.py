"""The in-memory state and its JSON file.

All data lives in plain dicts keyed by id. Request handlers run on one event loop and never
await while changing the state, so no locking is needed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from amocrm_emulator.state.models import (
    AccessToken,
    Account,
    AuthCode,
    Contact,
    CustomField,
    Event,
    Group,
    Integration,
    JSONDict,
    Lead,
    Membership,
    Note,
    Pipeline,
    RefreshToken,
    Status,
    Tag,
    Task,
    User,
    Webhook,
)

STATE_FORMAT = 1

T = TypeVar("T")


@dataclass
class State:
    accounts: dict[int, Account] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    groups: dict[int, Group] = field(default_factory=dict)
    pipelines: dict[int, Pipeline] = field(default_factory=dict)
    custom_fields: dict[int, CustomField] = field(default_factory=dict)
    tags: dict[int, Tag] = field(default_factory=dict)
    leads: dict[int, Lead] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    notes: dict[int, Note] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    integrations: dict[str, Integration] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    access_tokens: dict[str, AccessToken] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    next_ids: dict[str, int] = field(default_factory=dict)
    # The private key that signs access tokens, kept so tokens survive a restart.
    signing_key_pem: str = ""

    # ---- ids -------------------------------------------------------------------------------
    def new_id(self, kind: str) -> int:
        value = self.next_ids.get(kind, 1)
        self.next_ids[kind] = value + 1
        return value

    def add_event(
        self,
        account_id: int,
        entity_id: int,
        event_type: str,
        created_by: int,
        created_at: int,
        *,
        entity_type: str = "lead",
        value_before: list[JSONDict] | None = None,
        value_after: list[JSONDict] | None = None,
    ) -> Event:
        """Record an event of an entity's history (`GET /api/v4/events`), with a ULID-like id."""
        event = Event(
            id=f"01jhq{self.new_id('event'):021x}",
            account_id=account_id,
            type=event_type,
            entity_type=entity_type,
            entity_id=entity_id,
            created_by=created_by,
            created_at=created_at,
            value_after=value_after or [],
            value_before=value_before or [],
        )
        self.events.append(event)
        return event

    # ---- look-ups --------------------------------------------------------------------------
    def account_by_host(self, host: str) -> Account | None:
        for account in self.accounts.values():
            if account.host == host:
                return account
        return None

    def account_by_subdomain(self, subdomain: str, base_domain: str) -> Account | None:
        return self.account_by_host(f"{subdomain}.{base_domain}")

    def membership(self, user_id: int, account_id: int) -> Membership | None:
        for member in self.memberships:
            if member.user_id == user_id and member.account_id == account_id:
                return member
        return None

    def members_of(self, account_id: int) -> list[Membership]:
        return [m for m in self.memberships if m.account_id == account_id]

    def accounts_of(self, user_id: int) -> list[Account]:
        return [
            self.accounts[m.account_id]
            for m in self.memberships
            if m.user_id == user_id and m.is_active and m.account_id in self.accounts
        ]

    def user_by_login(self, login: str) -> User | None:
        wanted = login.strip().lower()
        for user in self.users.values():
            if user.login.lower() == wanted:
                return user
        return None

    def pipeline_statuses(self, pipeline_id: int) -> list[Status]:
        pipeline = self.pipelines.get(pipeline_id)
        return pipeline.statuses if pipeline else []

    def account_pipelines(self, account_id: int) -> list[Pipeline]:
        found = [p for p in self.pipelines.values() if p.account_id == account_id]
        return sorted(found, key=lambda p: (p.sort, p.id))

    def account_fields(self, account_id: int, entity_type: str) -> list[CustomField]:
        found = [
            f
            for f in self.custom_fields.values()
            if f.account_id == account_id and f.entity_type == entity_type
        ]
        return sorted(found, key=lambda f: (f.sort, f.id))

    def field_by_code(self, account_id: int, entity_type: str, code: str) -> CustomField | None:
        for item in self.account_fields(account_id, entity_type):
            if item.code == code:
                return item
        return None

    # ---- persistence -----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data["format"] = STATE_FORMAT
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        if data.get("format") != STATE_FORMAT:
            msg = f"unsupported state file format: {data.get('format')!r}"
            raise ValueError(msg)
        kwargs = {
            name: _build(hint, data[name]) for name, hint in _field_hints(cls) if name in data
        }
        return cls(**kwargs)

    def save(self, path: str | os.PathLike[str]) -> None:
        write_snapshot(self.to_json(), path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> State:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict):
            msg = "the state file does not hold a JSON object"
            raise ValueError(msg)
        return cls.from_json(data)


def write_snapshot(snapshot: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a `State.to_json()` snapshot atomically: a crash mid-write keeps the old file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".amocrm-state-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_NAMES: dict[type, tuple[str, ...]] = {}
_HINTS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    # Resolving annotations is slow; a state file holds thousands of records of a few types.
    hints = _HINTS.get(cls)
    if hints is None:
        resolved = typing.get_type_hints(cls)
        hints = _HINTS[cls] = tuple((name, resolved[name]) for name in _field_names(cls))
    return hints


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _build(hint: Any, value: Any) -> Any:
    """Rebuild a value of type `hint` from its JSON form (dataclasses, lists, int-keyed dicts)."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint(
            **{name: _build(sub, value[name]) for name, sub in _field_hints(hint) if name in value}
        )
    origin = typing.get_origin(hint)
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        if isinstance(item_hint, type) and dataclasses.is_dataclass(item_hint):
            return [_build(item_hint, item) for item in value]
        return value
    if origin is dict:
        key_type, item_hint = typing.get_args(hint)
        if isinstance(item_hint, type) and dataclasses.is_dataclass(item_hint):
            return {key_type(k): _build(item_hint, v) for k, v in value.items()}
        return {key_type(k): v for k, v in value.items()}
    return value


def by_ids(items: dict[int, T], ids: Iterable[int]) -> list[T]:
    return [items[i] for i in ids if i in items]
