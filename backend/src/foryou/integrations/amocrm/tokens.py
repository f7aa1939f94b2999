"""A usable access token for a user: refresh near expiry, single-flight across processes.

Refresh protocol (DESIGN §5): claim a short lease on the connection row with a conditional
UPDATE (committed), call amoCRM with no transaction open, write the new pair with a
compare-and-swap on `version`, release. Other processes poll the row and re-read; callers in
this process share one in-flight refresh task per connection.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from foryou.clock import Clock
from foryou.config import Settings
from foryou.crypto import DecryptionError, TokenCipher, TokenContext
from foryou.db import Database
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.client import AmoCrmClient, TokenGrant
from foryou.integrations.amocrm.errors import (
    AmoCrmError,
    AmoGrantRejected,
    AmoNotConnected,
    AmoReauthRequired,
    AmoUnauthorized,
    AmoUpstreamUnavailable,
    TokenKeysUnavailable,
    to_app_error,
)
from foryou.integrations.amocrm.models import AmoCrmConnection, ConnectionStatus, EventKind
from foryou.integrations.amocrm.referer import AccountHost, parse_account_host
from foryou.integrations.amocrm.repository import SealedPair
from foryou.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")

REFRESH_TOKEN_LIFETIME = timedelta(days=90)
_POLL_MIN_SECONDS = 0.05
_POLL_JITTER_SECONDS = 0.15
_COMMIT_ATTEMPTS = 4


@dataclass(frozen=True)
class UsableToken:
    """Everything a caller needs to talk to amoCRM as this broker."""

    connection_id: uuid.UUID
    user_id: uuid.UUID
    access_token: str
    host: AccountHost
    account_id: int
    amo_user_id: int
    amo_user_name: str | None
    version: int

    def __repr__(self) -> str:
        return f"UsableToken(connection_id={self.connection_id}, version={self.version})"


def seal_pair(
    cipher: TokenCipher,
    *,
    connection_id: uuid.UUID,
    user_id: uuid.UUID,
    grant: TokenGrant,
    now: datetime,
) -> SealedPair:
    access_context = TokenContext(connection_id, user_id, "access_token")
    refresh_context = TokenContext(connection_id, user_id, "refresh_token")
    return SealedPair(
        key_id=cipher.current_key_id,
        access_token_enc=cipher.encrypt(grant.access_token, access_context),
        refresh_token_enc=cipher.encrypt(grant.refresh_token, refresh_context),
        access_expires_at=now + timedelta(seconds=grant.expires_in),
        refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
    )


def open_token(cipher: TokenCipher, connection: AmoCrmConnection, field: str) -> str:
    ciphertext = (
        connection.access_token_enc if field == "access_token" else connection.refresh_token_enc
    )
    assert ciphertext is not None
    assert connection.token_key_id is not None
    context = TokenContext(connection.id, connection.user_id, field)
    try:
        return cipher.decrypt(ciphertext, connection.token_key_id, context)
    except DecryptionError:
        # A key missing from FORYOU_ENCRYPTION_KEYS is an operator error: the tokens are kept
        # untouched so that restoring the key brings the connection back.
        log.error(
            "amocrm_token_undecryptable",
            connection_id=str(connection.id),
            key_id=connection.token_key_id,
        )
        raise TokenKeysUnavailable() from None


def default_lease_owner() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class TokenProvider:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        client: AmoCrmClient,
        clock: Clock,
        settings: Settings,
        lease_owner: str | None = None,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._client = client
        self._clock = clock
        self._margin = timedelta(seconds=settings.amocrm_refresh_margin_seconds)
        self._lease = timedelta(seconds=settings.amocrm_refresh_lease_seconds)
        self._owner = lease_owner or default_lease_owner()
        self._inflight: dict[uuid.UUID, asyncio.Task[UsableToken]] = {}

    async def call(self, user_id: uuid.UUID, operation: Callable[[UsableToken], Awaitable[T]]) -> T:
        """Run `operation` with the user's token; on a 401, refresh once and retry once."""
        token = await self.usable_token(user_id)
        try:
            return await operation(token)
        except AmoUnauthorized:
            pass
        token = await self._shared_refresh(token.connection_id, token.version, forced=True)
        try:
            return await operation(token)
        except AmoUnauthorized:
            # A token amoCRM just issued is refused: access was withdrawn on amoCRM's side.
            await self._give_up(token.connection_id, token.version, "unauthorized")
            raise AmoReauthRequired() from None

    async def usable_token(self, user_id: uuid.UUID) -> UsableToken:
        async with self._db.transaction() as session:
            connection = await repository.get_connection_for_user(session, user_id)
        if connection is None:
            raise AmoNotConnected()
        self._ensure_active(connection)
        assert connection.access_expires_at is not None
        if connection.access_expires_at - self._clock.now() > self._margin:
            return self._usable(connection)
        return await self._shared_refresh(connection.id, connection.version, forced=False)

    # --- single flight inside this process ---------------------------------------------

    async def _shared_refresh(
        self, connection_id: uuid.UUID, seen_version: int, *, forced: bool
    ) -> UsableToken:
        task = self._inflight.get(connection_id)
        if task is None:
            # A task of its own, so a caller that goes away cannot cut a refresh in half.
            task = asyncio.create_task(self._refresh(connection_id, seen_version, forced=forced))
            self._inflight[connection_id] = task
            task.add_done_callback(lambda done: self._finished(connection_id, done))
        return await asyncio.shield(task)

    def _finished(self, connection_id: uuid.UUID, task: asyncio.Task[UsableToken]) -> None:
        if self._inflight.get(connection_id) is task:
            del self._inflight[connection_id]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited failure is not reported twice

    # --- single flight across processes ------------------------------------------------

    async def _refresh(
        self, connection_id: uuid.UUID, seen_version: int, *, forced: bool
    ) -> UsableToken:
        deadline = time.monotonic() + self._lease.total_seconds() * 1.5
        while True:
            async with self._db.transaction() as session:
                connection = await repository.get_connection(session, connection_id)
            if connection is None:
                raise AmoNotConnected()
            self._ensure_active(connection)
            if connection.version != seen_version:
                return self._usable(connection)  # someone else refreshed or reconnected
            now = self._clock.now()
            if connection.lease_until is None or connection.lease_until <= now:
                previous_unfinished = connection.refresh_started_at is not None and (
                    connection.refresh_finished_at is None
                    or connection.refresh_finished_at < connection.refresh_started_at
                )
                async with self._db.transaction() as session:
                    claimed = await repository.claim_refresh_lease(
                        session,
                        connection_id,
                        owner=self._owner,
                        expected_version=connection.version,
                        now=now,
                        lease_until=now + self._lease,
                    )
                if claimed:
                    return await self._refresh_holding_lease(
                        connection, previous_unfinished=previous_unfinished, forced=forced
                    )
                continue
            # Another process is refreshing. The current token still works until it expires.
            assert connection.access_expires_at is not None
            if not forced and connection.access_expires_at > now:
                return self._usable(connection)
            if time.monotonic() > deadline:
                raise AmoUpstreamUnavailable(headers={"Retry-After": "2"})
            await asyncio.sleep(_POLL_MIN_SECONDS + random.random() * _POLL_JITTER_SECONDS)  # noqa: S311

    async def _refresh_holding_lease(
        self, connection: AmoCrmConnection, *, previous_unfinished: bool, forced: bool
    ) -> UsableToken:
        host = parse_account_host(connection.account_domain)
        try:
            refresh_token = open_token(self._cipher, connection, "refresh_token")
        except TokenKeysUnavailable:
            async with self._db.transaction() as session:
                await repository.release_refresh_lease(session, connection.id, owner=self._owner)
            raise
        try:
            grant = await self._client.refresh(host, refresh_token, connection.account_id)
        except AmoGrantRejected:
            return await self._on_rejected(connection, previous_unfinished=previous_unfinished)
        except AmoCrmError as error:
            # Includes AmoClientRejected: our configuration is wrong, the tokens are not.
            await self._on_transient_failure(connection, type(error).__name__)
            assert connection.access_expires_at is not None
            if not forced and connection.access_expires_at > self._clock.now():
                return self._usable(connection)
            raise to_app_error(error) from None
        return await self._commit_new_pair(connection, grant)

    async def _commit_new_pair(
        self, connection: AmoCrmConnection, grant: TokenGrant
    ) -> UsableToken:
        # The new pair is the only valid one now: it is written before anything else happens,
        # and a failed write is retried from memory rather than by refreshing again.
        last_error: SQLAlchemyError | None = None
        for attempt in range(_COMMIT_ATTEMPTS):
            now = self._clock.now()
            pair = seal_pair(
                self._cipher,
                connection_id=connection.id,
                user_id=connection.user_id,
                grant=grant,
                now=now,
            )
            try:
                async with self._db.transaction() as session:
                    written = await repository.write_refreshed_pair(
                        session,
                        connection.id,
                        expected_version=connection.version,
                        pair=pair,
                        now=now,
                    )
                    if written:
                        await repository.add_event(
                            session,
                            user_id=connection.user_id,
                            connection_id=connection.id,
                            kind=EventKind.REFRESHED,
                            account_id=connection.account_id,
                            now=now,
                        )
                break
            except SQLAlchemyError as error:
                last_error = error
                await asyncio.sleep(0.2 * 2**attempt)
        else:
            log.error("amocrm_refresh_commit_failed", connection_id=str(connection.id))
            raise AmoUpstreamUnavailable(headers={"Retry-After": "5"}) from last_error
        log.info("amocrm_token_refreshed", connection_id=str(connection.id), written=written)
        if written:
            return UsableToken(
                connection_id=connection.id,
                user_id=connection.user_id,
                access_token=grant.access_token,
                host=parse_account_host(connection.account_domain),
                account_id=connection.account_id,
                amo_user_id=connection.amo_user_id,
                amo_user_name=connection.amo_user_name,
                version=connection.version + 1,
            )
        # Someone changed the row first (disconnect, reconnect, a newer refresh): theirs wins.
        return await self._reread(connection.id)

    async def _on_rejected(
        self, connection: AmoCrmConnection, *, previous_unfinished: bool
    ) -> UsableToken:
        # Re-read first: another process may have rotated the token a moment ago.
        async with self._db.transaction() as session:
            current = await repository.get_connection(session, connection.id)
        if current is not None and current.version != connection.version:
            self._ensure_active(current)
            return self._usable(current)
        reason = "rotation_lost" if previous_unfinished else "refresh_revoked"
        await self._give_up(connection.id, connection.version, reason)
        raise AmoReauthRequired()

    async def _give_up(self, connection_id: uuid.UUID, version: int, reason: str) -> None:
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            connection = await repository.get_connection(session, connection_id)
            marked = await repository.mark_reauth_required(
                session, connection_id, expected_version=version, reason=reason, now=now
            )
            if marked and connection is not None:
                for kind in (EventKind.REFRESH_FAILED, EventKind.REAUTH_REQUIRED):
                    await repository.add_event(
                        session,
                        user_id=connection.user_id,
                        connection_id=connection_id,
                        kind=kind,
                        reason=reason,
                        account_id=connection.account_id,
                        now=now,
                    )
        log.warning("amocrm_reauth_required", connection_id=str(connection_id), reason=reason)

    async def _on_transient_failure(self, connection: AmoCrmConnection, reason: str) -> None:
        # The lease is released but refresh_started_at stays newer than refresh_finished_at:
        # the outcome at amoCRM is unknown, and the next attempt must know that.
        now = self._clock.now()
        async with self._db.transaction() as session:
            await repository.release_refresh_lease(session, connection.id, owner=self._owner)
            await repository.add_event(
                session,
                user_id=connection.user_id,
                connection_id=connection.id,
                kind=EventKind.REFRESH_FAILED,
                reason=reason,
                account_id=connection.account_id,
                now=now,
            )
        log.warning("amocrm_refresh_failed", connection_id=str(connection.id), reason=reason)

    async def _reread(self, connection_id: uuid.UUID) -> UsableToken:
        async with self._db.transaction() as session:
            connection = await repository.get_connection(session, connection_id)
        if connection is None:
            raise AmoNotConnected()
        self._ensure_active(connection)
        return self._usable(connection)

    # --- helpers -----------------------------------------------------------------------

    @staticmethod
    def _ensure_active(connection: AmoCrmConnection) -> None:
        if connection.status == ConnectionStatus.DISCONNECTED.value:
            raise AmoNotConnected()
        if connection.status != ConnectionStatus.ACTIVE.value or connection.token_key_id is None:
            raise AmoReauthRequired()

    def _usable(self, connection: AmoCrmConnection) -> UsableToken:
        return UsableToken(
            connection_id=connection.id,
            user_id=connection.user_id,
            access_token=open_token(self._cipher, connection, "access_token"),
            host=parse_account_host(connection.account_domain),
            account_id=connection.account_id,
            amo_user_id=connection.amo_user_id,
            amo_user_name=connection.amo_user_name,
            version=connection.version,
        )
