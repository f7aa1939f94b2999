"""Account-level calls to amoCRM with the agency connection — and nothing else.

The agency connection speaks for the account (its users catalogue, its webhooks), never for
a broker:
this gateway has only account-level methods, takes an account id (never a user), and hands
its token to no one. A broker's CRM data goes through `crm/amo.py`'s `CrmGateway`, which only
accepts the broker's own `UsableToken`; an `AccountToken` is a different type and cannot
reach it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from foryou.agency import repository
from foryou.agency.metrics import AGENCY_TOKEN_EVENTS
from foryou.agency.models import AgencyConnection, AgencySource, AgencyStatus
from foryou.clock import Clock
from foryou.crm.domain import embedded
from foryou.crypto import TokenCipher, TokenContext
from foryou.db import Database
from foryou.integrations.amocrm import repository as connections
from foryou.integrations.amocrm.client import USER_PAGE_LIMIT, AmoCrmClient, read_user_names
from foryou.integrations.amocrm.errors import (
    AmoCrmError,
    AmoNotConnected,
    AmoReauthRequired,
    AmoUnauthorized,
)
from foryou.integrations.amocrm.referer import AccountHost, parse_account_host
from foryou.integrations.amocrm.tokens import TokenProvider, UsableToken
from foryou.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class AccountToken:
    """A token for account-level calls of one amoCRM account; never a broker's."""

    access_token: str
    host: AccountHost
    account_id: int

    def __repr__(self) -> str:
        return f"AccountToken(account_id={self.account_id})"


class AccountAdmin(Protocol):
    """Account-level calls of one amoCRM account that only an account admin may make: its
    webhooks. Made with the agency connection, or else with an admin broker's own token."""

    @property
    def account_id(self) -> int: ...

    async def webhooks(self) -> list[dict[str, Any]]: ...

    async def add_webhook(self, destination: str, events: list[str]) -> None: ...


class _AgencyAdmin:
    def __init__(self, client: AmoCrmClient, token: AccountToken) -> None:
        self._client = client
        self._token = token

    @property
    def account_id(self) -> int:
        return self._token.account_id

    async def webhooks(self) -> list[dict[str, Any]]:
        body = await self._client.api_get(
            self._token.host,
            self._token.access_token,
            "/api/v4/webhooks",
            account_id=self._token.account_id,
        )
        return embedded(body, "webhooks")

    async def add_webhook(self, destination: str, events: list[str]) -> None:
        await self._client.api_write(
            self._token.host,
            self._token.access_token,
            "POST",
            "/api/v4/webhooks",
            {"destination": destination, "settings": events},
            account_id=self._token.account_id,
        )


def agency_token_context(agency_id: uuid.UUID, account_id: int) -> TokenContext:
    """The associated data of a sealed long-lived token: its row and its account, so a
    ciphertext copied to another row or account does not open."""
    return TokenContext(agency_id, uuid.UUID(int=account_id), "agency_token")


class AccountGateway:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        client: AmoCrmClient,
        tokens: TokenProvider,
        clock: Clock,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._client = client
        self._tokens = tokens
        self._clock = clock

    async def user_names(self, account_id: int) -> dict[int, str] | None:
        """The account's users catalogue `{amo user id: name}`; None when the account has no
        usable agency connection (or amoCRM would not answer it now)."""

        async def read(token: AccountToken) -> dict[int, str]:
            return await read_user_names(lambda page: self._get_users_page(token, page))

        return await self._as_agency(account_id, read)

    async def as_account_admin(
        self, account_id: int, operation: Callable[[AccountAdmin], Awaitable[T]]
    ) -> T | None:
        """Run account-level work (webhooks) with the agency connection; None when the account
        has no usable one, or amoCRM refused it now (the caller may try an admin broker)."""

        async def run(token: AccountToken) -> T:
            return await operation(_AgencyAdmin(self._client, token))

        return await self._as_agency(account_id, run)

    async def _get_users_page(self, token: AccountToken, page: int) -> dict[str, Any] | None:
        return await self._client.api_get(
            token.host,
            token.access_token,
            "/api/v4/users",
            account_id=token.account_id,
            params={"page": page, "limit": USER_PAGE_LIMIT},
        )

    async def _as_agency(
        self, account_id: int, operation: Callable[[AccountToken], Awaitable[T]]
    ) -> T | None:
        async with self._db.transaction() as session:
            agency = await repository.get_for_account(session, account_id)
            owner = (
                await connections.get_connection(session, agency.connection_id)
                if agency is not None and agency.connection_id is not None
                else None
            )
        if agency is None or agency.status != AgencyStatus.ACTIVE.value:
            return None
        try:
            if agency.source == AgencySource.OAUTH.value:
                if owner is None:
                    return None
                return await self._with_oauth(owner.user_id, operation)
            return await self._with_long_lived(agency, operation)
        except AmoCrmError as error:
            log.warning("agency_call_failed", account_id=account_id, error=type(error).__name__)
            return None

    async def _with_oauth(
        self, user_id: uuid.UUID, operation: Callable[[AccountToken], Awaitable[T]]
    ) -> T | None:
        def as_account(token: UsableToken) -> AccountToken:
            return AccountToken(token.access_token, token.host, token.account_id)

        try:
            # The admin's own connection, with its refresh lifecycle (refresh once on a 401).
            return await self._tokens.call(user_id, lambda token: operation(as_account(token)))
        except (AmoNotConnected, AmoReauthRequired):
            return None

    async def _with_long_lived(
        self, agency: AgencyConnection, operation: Callable[[AccountToken], Awaitable[T]]
    ) -> T | None:
        now = self._clock.now()
        if agency.token_enc is None or agency.token_key_id is None:
            return None
        if agency.expires_at is not None and agency.expires_at <= now:
            return None  # the worker marks it expired
        token = AccountToken(
            self._cipher.decrypt(
                agency.token_enc,
                agency.token_key_id,
                agency_token_context(agency.id, agency.account_id),
            ),
            parse_account_host(agency.account_domain),
            agency.account_id,
        )
        try:
            result = await operation(token)
        except AmoUnauthorized:
            # A long-lived token has no refresh: amoCRM's 401 means it was revoked.
            await self.mark_revoked(agency)
            return None
        async with self._db.transaction() as session:
            await repository.mark_checked(session, agency.id, self._clock.now())
        return result

    async def mark_revoked(self, agency: AgencyConnection) -> None:
        async with self._db.transaction() as session:
            marked = await repository.mark(
                session, agency.id, AgencyStatus.REVOKED, self._clock.now()
            )
        if marked:
            AGENCY_TOKEN_EVENTS.labels("revoked").inc()
            log.warning("agency_token_revoked", account_id=agency.account_id)
