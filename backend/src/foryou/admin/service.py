"""The admin's use cases: brokers' connections (list, timeline, unlink, ask to reconnect)
and app users (list, create, block, unblock). No web framework here."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from foryou.admin import repository
from foryou.admin.repository import BrokerRow
from foryou.auth import repository as users_repository
from foryou.auth.models import CRM_ROLES, Role, User, UserStatus
from foryou.auth.service import UserService
from foryou.clock import Clock
from foryou.db import Database
from foryou.errors import AppError, NotFound
from foryou.integrations.amocrm import repository as connections
from foryou.integrations.amocrm.models import ConnectionStatus, EventKind
from foryou.integrations.amocrm.service import reconnect_pending
from foryou.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class CannotBlockSelf(AppError):
    status_code = 409
    code = "cannot_block_self"
    message = "An admin cannot block their own account."


class NotACrmUser(AppError):
    status_code = 409
    code = "not_a_crm_user"
    message = "This user's role does not work with amoCRM."


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    limit: int = 25

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    limit: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.page * self.limit < self.total


@dataclass(frozen=True)
class BrokerView:
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    user_status: str
    state: str
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
    # When the broker last used the CRM through the app (to the half hour).
    last_active_at: datetime | None


@dataclass(frozen=True)
class EventView:
    id: uuid.UUID
    kind: str
    reason: str | None
    account_id: int | None
    actor_user_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True)
class UserView:
    id: uuid.UUID
    email: str
    name: str
    role: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class CreatedUser:
    user: UserView
    # Only when the admin gave no password: shown once, never stored in the clear.
    one_time_password: str | None


def broker_state(row: BrokerRow) -> str:
    if row.connection_status is None:
        return "never_connected"
    if row.connection_status == ConnectionStatus.ACTIVE.value:
        return "active" if row.has_tokens else "reauth_required"
    return row.connection_status


def _broker_view(row: BrokerRow) -> BrokerView:
    state = broker_state(row)
    reason = row.reason if state in ("reauth_required", "revoked") else None
    if state == "revoked":
        reason = reason or "integration_disabled"
    reconnect = (
        None
        if row.reconnect_requested_at is None
        else connections.ReconnectRequest(row.reconnect_requested_at, row.reconnect_note)
    )
    pending = reconnect_pending(reconnect, row.connected_at)
    return BrokerView(
        user_id=row.user_id,
        email=row.email,
        name=row.name,
        role=row.role,
        user_status=row.user_status,
        state=state,
        reason=reason,
        domain=row.account_domain,
        amo_user_id=row.amo_user_id,
        amo_user_name=row.amo_user_name,
        last_refreshed_at=row.last_refreshed_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        connected_since=row.connected_at if state == "active" else None,
        reconnect_requested=pending,
        reconnect_note=row.reconnect_note if pending else None,
        last_active_at=row.last_active_at,
    )


def _user_view(user: User) -> UserView:
    return UserView(user.id, user.email, user.name, user.role, user.status, user.created_at)


class AdminService:
    def __init__(self, *, db: Database, clock: Clock, users: UserService) -> None:
        self._db = db
        self._clock = clock
        self._users = users

    # --- brokers -----------------------------------------------------------------------

    async def list_brokers(
        self, paging: PageRequest, *, state: str | None, q: str | None
    ) -> Page[BrokerView]:
        async with self._db.transaction() as session:
            rows, total = await repository.list_brokers(
                session, state=state, q=q, offset=paging.offset, limit=paging.limit
            )
        return Page([_broker_view(row) for row in rows], paging.page, paging.limit, total)

    async def broker_events(self, user_id: uuid.UUID, paging: PageRequest) -> Page[EventView]:
        async with self._db.transaction() as session:
            if await users_repository.get_user(session, user_id) is None:
                raise NotFound()
            events, total = await repository.list_events(
                session, user_id, offset=paging.offset, limit=paging.limit
            )
        items = [
            EventView(e.id, e.kind, e.reason, e.account_id, e.actor_user_id, e.created_at)
            for e in events
        ]
        return Page(items, paging.page, paging.limit, total)

    async def unlink(self, admin_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """End the broker's connection like a disconnect, naming the admin in the event; the
        amoCRM user is then free for another app user. False when there was nothing to end."""
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            if await users_repository.get_user(session, user_id) is None:
                raise NotFound()
            ended = await connections.disconnect_user(
                session, user_id, now, kind=EventKind.UNLINKED, actor_user_id=admin_id
            )
        log.info("amocrm_connection_unlinked", user_id=str(user_id), ended=ended is not None)
        return ended is not None

    async def request_reconnect(
        self, admin_id: uuid.UUID, user_id: uuid.UUID, note: str | None
    ) -> None:
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            user = await users_repository.get_user(session, user_id)
            if user is None:
                raise NotFound()
            if user.role not in CRM_ROLES:
                raise NotACrmUser()
            connection = await connections.get_connection_for_user(session, user_id)
            await repository.request_reconnect(
                session, user_id, requested_by=admin_id, note=note, now=now
            )
            await connections.add_event(
                session,
                user_id=user_id,
                connection_id=connection.id if connection is not None else None,
                kind=EventKind.RECONNECT_REQUESTED,
                account_id=connection.account_id if connection is not None else None,
                actor_user_id=admin_id,
                now=now,
            )

    # --- app users ---------------------------------------------------------------------

    async def list_users(
        self, paging: PageRequest, *, status: str | None, q: str | None
    ) -> Page[UserView]:
        async with self._db.transaction() as session:
            users, total = await repository.list_users(
                session, status=status, q=q, offset=paging.offset, limit=paging.limit
            )
        return Page([_user_view(user) for user in users], paging.page, paging.limit, total)

    async def create_broker(self, email: str, name: str, password: str | None) -> CreatedUser:
        one_time = None if password is not None else secrets.token_urlsafe(12)
        created = await self._users.create_user(
            email=email, password=password or str(one_time), role=Role.BROKER, name=name
        )
        async with self._db.transaction() as session:
            user = await users_repository.get_user(session, created.id)
        assert user is not None
        return CreatedUser(_user_view(user), one_time)

    async def set_blocked(
        self, admin_id: uuid.UUID | None, user_id: uuid.UUID, blocked: bool
    ) -> UserView:
        """Block: the user's next request is refused (their app token too) and the worker
        stops keeping their connection alive; unblock undoes both."""
        if blocked and user_id == admin_id:
            raise CannotBlockSelf()
        status = UserStatus.BLOCKED if blocked else UserStatus.ACTIVE
        async with self._db.write_transaction() as session:
            if await users_repository.get_user(session, user_id) is None:
                raise NotFound()
            await repository.set_user_status(session, user_id, status.value, self._clock.now())
            user = await users_repository.get_user(session, user_id)
            assert user is not None
            await session.refresh(user)
            view = _user_view(user)
        log.info("user_status_changed", user_id=str(user_id), status=status.value)
        return view

    async def user_by_email(self, email: str) -> UserView | None:
        async with self._db.transaction() as session:
            user = await users_repository.get_user_by_email(session, email.strip().lower())
        return None if user is None else _user_view(user)
