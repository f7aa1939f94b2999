"""A usable access token for a user: refresh near expiry, single-flight across processes.

Refresh protocol (DESIGN §5): claim a short lease on the connection row with a conditional
UPDATE (committed), call amoCRM with no transaction open, write the new pair with a
compare-and-swap on `version`, release. Other processes poll the row and re-read; callers in
this process share one in-flight refresh task per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from foryou.failpoints import Failpoints
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.client import AmoCrmClient, TokenGrant
from foryou.integrations.amocrm.errors import (
    AmoClientRejected,
    AmoCrmError,
    AmoGrantRejected,
    AmoNotConnected,
    AmoReauthRequired,
    AmoUnauthorized,
    AmoUpstreamUnavailable,
    TokenKeysUnavailable,
    to_app_error,
)
from foryou.integrations.amocrm.metrics import LEASE_WAIT_SECONDS, TOKEN_REFRESHES
from foryou.integrations.amocrm.models import AmoCrmConnection, ConnectionStatus, EventKind
from foryou.integrations.amocrm.referer import AccountHost, parse_account_host
from foryou.integrations.amocrm.repository import SealedPair
from foryou.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")

REFRESH_TOKEN_LIFETIME = timedelta(days=90)
_POLL_MIN_SECONDS = 0.05
_POLL_JITTER_SECONDS = 0.15
_PERSIST_FIRST_DELAY_SECONDS = 0.2
_PERSIST_MAX_DELAY_SECONDS = 5.0
_RETRY_MAX_SECONDS = 900.0


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
    return seal_tokens(
        cipher,
        bound_to=TokenBinding(connection_id, user_id),
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        access_expires_at=now + timedelta(seconds=grant.expires_in),
        refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
    )


@dataclass(frozen=True)
class TokenBinding:
    """What a sealed pair is bound to: a connection, or (`pending`) the flow whose callback
    produced it while the ticket waits; a pair copied between the two fails to open."""

    owner_id: uuid.UUID
    user_id: uuid.UUID
    pending: bool = False

    def context(self, token: str) -> TokenContext:
        field = f"pending_{token}" if self.pending else token
        return TokenContext(self.owner_id, self.user_id, field)


def seal_tokens(
    cipher: TokenCipher,
    *,
    bound_to: TokenBinding,
    access_token: str,
    refresh_token: str,
    access_expires_at: datetime,
    refresh_expires_at: datetime,
) -> SealedPair:
    return SealedPair(
        key_id=cipher.current_key_id,
        access_token_enc=cipher.encrypt(access_token, bound_to.context("access_token")),
        refresh_token_enc=cipher.encrypt(refresh_token, bound_to.context("refresh_token")),
        access_expires_at=access_expires_at,
        refresh_expires_at=refresh_expires_at,
    )


def open_tokens(cipher: TokenCipher, pair: SealedPair, bound_to: TokenBinding) -> tuple[str, str]:
    """The access and refresh token of a sealed pair; raises `DecryptionError`."""
    return (
        cipher.decrypt(pair.access_token_enc, pair.key_id, bound_to.context("access_token")),
        cipher.decrypt(pair.refresh_token_enc, pair.key_id, bound_to.context("refresh_token")),
    )


def open_token(cipher: TokenCipher, connection: AmoCrmConnection, field: str) -> str:
    try:
        return _decrypt(cipher, connection, field)
    except DecryptionError:
        # A key missing from FORYOU_ENCRYPTION_KEYS is an operator error: the tokens are kept
        # untouched so that restoring the key brings the connection back.
        log.error(
            "amocrm_token_undecryptable",
            connection_id=str(connection.id),
            key_id=connection.token_key_id,
        )
        raise TokenKeysUnavailable() from None


def reseal_tokens(cipher: TokenCipher, connection: AmoCrmConnection) -> tuple[str, str]:
    """The connection's access and refresh tokens sealed again under the current key.

    For key rotation: each token keeps its context, only the key changes. Raises
    `DecryptionError` when no configured key opens them.
    """
    access_token_enc, refresh_token_enc = (
        cipher.encrypt(
            _decrypt(cipher, connection, field),
            TokenContext(connection.id, connection.user_id, field),
        )
        for field in ("access_token", "refresh_token")
    )
    return access_token_enc, refresh_token_enc


def _decrypt(cipher: TokenCipher, connection: AmoCrmConnection, field: str) -> str:
    ciphertext = (
        connection.access_token_enc if field == "access_token" else connection.refresh_token_enc
    )
    assert ciphertext is not None
    assert connection.token_key_id is not None
    context = TokenContext(connection.id, connection.user_id, field)
    return cipher.decrypt(ciphertext, connection.token_key_id, context)


@dataclass
class _UnsavedPair:
    """A pair amoCRM issued that could not be written yet: the only valid one there is."""

    connection: AmoCrmConnection
    grant: TokenGrant
    token: UsableToken
    reason: str | None


def refresh_unfinished(connection: AmoCrmConnection) -> bool:
    """Whether an earlier refresh started and never finished (amoCRM may have rotated)."""
    return connection.refresh_started_at is not None and (
        connection.refresh_finished_at is None
        or connection.refresh_finished_at < connection.refresh_started_at
    )


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
        failpoints: Failpoints | None = None,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._client = client
        self._clock = clock
        self._margin = timedelta(seconds=settings.amocrm_refresh_margin_seconds)
        self._lease = timedelta(seconds=settings.amocrm_refresh_lease_seconds)
        self._retry_base = settings.amocrm_refresh_retry_seconds
        self._owner = lease_owner or default_lease_owner()
        self._failpoints = failpoints or Failpoints(settings.test_failpoints)
        self._inflight: dict[uuid.UUID, asyncio.Task[UsableToken]] = {}
        # Pairs whose write failed, kept until a retried write succeeds (never re-refreshed).
        self._unsaved: dict[uuid.UUID, _UnsavedPair] = {}
        self._persisters: set[asyncio.Task[None]] = set()

    @property
    def lease_owner(self) -> str:
        return self._owner

    async def aclose(self) -> None:
        """One last write of every unsaved pair, then stop the background writers."""
        for task in list(self._persisters):
            task.cancel()
        for connection_id, unsaved in list(self._unsaved.items()):
            try:
                await self._write_pair(unsaved.connection, unsaved.grant, unsaved.reason)
                del self._unsaved[connection_id]
            except SQLAlchemyError:
                log.error("amocrm_unsaved_pair_lost_on_shutdown", connection_id=str(connection_id))

    async def keep_alive(self, connection: AmoCrmConnection) -> UsableToken:
        """Refresh a connection whose lease this provider has just claimed (the worker).

        `connection` is the row as read before the claim. Raises like a forced refresh:
        AmoReauthRequired when amoCRM refused the token, an AppError on other failures.
        """
        task = asyncio.create_task(
            self._refresh_holding_lease(
                connection, previous_unfinished=refresh_unfinished(connection), forced=True
            )
        )
        if connection.id not in self._inflight:
            # Callers of this process wait for this refresh instead of polling the row.
            self._inflight[connection.id] = task
            task.add_done_callback(lambda done: self._finished(connection.id, done))
        return await asyncio.shield(task)

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
        unsaved = self._unsaved_token(connection)
        if unsaved is not None:
            return unsaved
        self._ensure_active(connection)
        assert connection.access_expires_at is not None
        if connection.access_expires_at - self._clock.now() > self._margin:
            return self._usable(connection)
        return await self._shared_refresh(connection.id, connection.version, forced=False)

    def _unsaved_token(self, connection: AmoCrmConnection) -> UsableToken | None:
        unsaved = self._unsaved.get(connection.id)
        if unsaved is None or unsaved.connection.version != connection.version:
            return None
        return unsaved.token

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
        waiting_since: float | None = None
        try:
            while True:
                async with self._db.transaction() as session:
                    connection = await repository.get_connection(session, connection_id)
                if connection is None:
                    raise AmoNotConnected()
                unsaved = self._unsaved_token(connection)
                if unsaved is not None:
                    return unsaved
                self._ensure_active(connection)
                if connection.version != seen_version:
                    return self._usable(connection)  # someone else refreshed or reconnected
                now = self._clock.now()
                assert connection.access_expires_at is not None
                still_valid = not forced and connection.access_expires_at > now
                retry_at = connection.refresh_retry_at
                if retry_at is not None and retry_at > now:
                    # The last attempt failed without a verdict: wait out the backoff.
                    if still_valid:
                        return self._usable(connection)
                    seconds = max(1, int((retry_at - now).total_seconds()) + 1)
                    raise AmoUpstreamUnavailable(headers={"Retry-After": str(seconds)})
                if connection.lease_until is None or connection.lease_until <= now:
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
                            connection,
                            previous_unfinished=refresh_unfinished(connection),
                            forced=forced,
                        )
                    continue
                # Another process is refreshing. The current token still works until it expires.
                if still_valid:
                    return self._usable(connection)
                if waiting_since is None:
                    waiting_since = time.monotonic()
                if time.monotonic() > deadline:
                    raise AmoUpstreamUnavailable(headers={"Retry-After": "2"})
                await asyncio.sleep(_POLL_MIN_SECONDS + random.random() * _POLL_JITTER_SECONDS)  # noqa: S311
        finally:
            if waiting_since is not None:
                LEASE_WAIT_SECONDS.observe(time.monotonic() - waiting_since)

    async def _refresh_holding_lease(
        self, connection: AmoCrmConnection, *, previous_unfinished: bool, forced: bool
    ) -> UsableToken:
        host = parse_account_host(connection.account_domain)
        try:
            refresh_token = open_token(self._cipher, connection, "refresh_token")
        except TokenKeysUnavailable:
            await self._release_unsent(connection)
            TOKEN_REFRESHES.labels("keys_unavailable").inc()
            raise
        await self._failpoints.hit("before_token_request")
        try:
            # After an unfinished refresh this is the one try of the stored (old) token: it
            # works where amoCRM keeps a grace period, otherwise it is refused below.
            grant = await self._client.refresh(host, refresh_token, connection.account_id)
        except AmoGrantRejected:
            return await self._on_rejected(connection, previous_unfinished=previous_unfinished)
        except AmoCrmError as error:
            if error.never_sent:
                # Our own budget or circuit (e.g. Redis down) held the request back: amoCRM
                # saw nothing, so nothing failed there and nothing may have rotated.
                await self._release_unsent(connection)
                TOKEN_REFRESHES.labels("not_sent").inc()
                log.warning(
                    "amocrm_refresh_not_sent",
                    connection_id=str(connection.id),
                    error_type=type(error).__name__,
                )
                if self._still_usable(connection, forced=forced):
                    return self._usable(connection)
                raise to_app_error(error) from None
            # Includes AmoClientRejected: our configuration is wrong, the tokens are not. A
            # timeout with an unknown outcome may have rotated the token at amoCRM: the
            # journal keeps the refresh unfinished, so the next attempt knows.
            reason = "outcome_unknown" if error.outcome_unknown else type(error).__name__
            await self._on_transient_failure(
                connection, reason, backoff=not isinstance(error, AmoClientRejected)
            )
            if self._still_usable(connection, forced=forced):
                return self._usable(connection)
            raise to_app_error(error) from None
        return await self._commit_new_pair(
            connection, grant, reason="recovered_unfinished" if previous_unfinished else None
        )

    async def _release_unsent(self, connection: AmoCrmConnection) -> None:
        async with self._db.transaction() as session:
            await repository.release_unsent_refresh(
                session,
                connection.id,
                owner=self._owner,
                started_at=connection.refresh_started_at,
            )

    def _still_usable(self, connection: AmoCrmConnection, *, forced: bool) -> bool:
        """Whether a refresh that did not happen may still hand out the current token."""
        assert connection.access_expires_at is not None
        return not forced and connection.access_expires_at > self._clock.now()

    async def _commit_new_pair(
        self, connection: AmoCrmConnection, grant: TokenGrant, *, reason: str | None
    ) -> UsableToken:
        # The new pair is the only valid one now: it is written before anything else happens,
        # and a failed write is retried from memory rather than by refreshing again.
        await self._failpoints.hit("after_token_response_before_commit")
        token = UsableToken(
            connection_id=connection.id,
            user_id=connection.user_id,
            access_token=grant.access_token,
            host=parse_account_host(connection.account_domain),
            account_id=connection.account_id,
            amo_user_id=connection.amo_user_id,
            amo_user_name=connection.amo_user_name,
            version=connection.version + 1,
        )
        try:
            written = await self._write_pair(connection, grant, reason)
        except SQLAlchemyError:
            self._unsaved[connection.id] = _UnsavedPair(connection, grant, token, reason)
            task = asyncio.create_task(self._persist_unsaved(connection.id))
            self._persisters.add(task)
            task.add_done_callback(self._persisters.discard)
            TOKEN_REFRESHES.labels("commit_deferred").inc()
            log.error("amocrm_refresh_commit_failed", connection_id=str(connection.id))
            return token
        return await self._after_write(connection, written, reason, token)

    async def _after_write(
        self, connection: AmoCrmConnection, written: bool, reason: str | None, token: UsableToken
    ) -> UsableToken:
        log.info(
            "amocrm_token_refreshed",
            connection_id=str(connection.id),
            written=written,
            reason=reason,
        )
        if written:
            TOKEN_REFRESHES.labels("recovered" if reason else "refreshed").inc()
            return token
        # Someone changed the row first (disconnect, reconnect, a newer refresh): theirs wins.
        TOKEN_REFRESHES.labels("superseded").inc()
        return await self._reread(connection.id)

    async def _write_pair(
        self, connection: AmoCrmConnection, grant: TokenGrant, reason: str | None
    ) -> bool:
        now = self._clock.now()
        pair = seal_pair(
            self._cipher,
            connection_id=connection.id,
            user_id=connection.user_id,
            grant=grant,
            now=now,
        )
        async with self._db.transaction() as session:
            await self._failpoints.hit("commit")
            written = await repository.write_refreshed_pair(
                session, connection.id, expected_version=connection.version, pair=pair, now=now
            )
            if written:
                await repository.add_event(
                    session,
                    user_id=connection.user_id,
                    connection_id=connection.id,
                    kind=EventKind.REFRESHED,
                    reason=reason,
                    account_id=connection.account_id,
                    now=now,
                )
        return written

    async def _persist_unsaved(self, connection_id: uuid.UUID) -> None:
        """Retry the write of an unsaved pair with capped backoff until it lands or loses."""
        delay = _PERSIST_FIRST_DELAY_SECONDS
        while True:
            await asyncio.sleep(delay)
            unsaved = self._unsaved.get(connection_id)
            if unsaved is None:
                return
            delay = min(delay * 2, _PERSIST_MAX_DELAY_SECONDS)
            now = self._clock.now()
            # Keep the lease while the pair waits, so no other process refreshes with the
            # stored (already spent) refresh token.
            with contextlib.suppress(SQLAlchemyError):
                async with self._db.transaction() as session:
                    await repository.renew_refresh_lease(
                        session,
                        connection_id,
                        owner=self._owner,
                        expected_version=unsaved.connection.version,
                        lease_until=now + self._lease,
                    )
            try:
                written = await self._write_pair(unsaved.connection, unsaved.grant, unsaved.reason)
            except SQLAlchemyError:
                log.warning("amocrm_refresh_commit_retry_failed", connection_id=str(connection_id))
                continue
            del self._unsaved[connection_id]
            log.info(
                "amocrm_refresh_commit_retried", connection_id=str(connection_id), written=written
            )
            TOKEN_REFRESHES.labels("commit_retried" if written else "superseded").inc()
            return

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
        TOKEN_REFRESHES.labels(reason).inc()
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

    async def _on_transient_failure(
        self, connection: AmoCrmConnection, reason: str, *, backoff: bool
    ) -> None:
        # The lease is released but refresh_started_at stays newer than refresh_finished_at:
        # the outcome at amoCRM is unknown, and the next attempt must know that. The next
        # attempt waits out a backoff that doubles with each consecutive failure. Our own
        # credentials refused (a configuration error) hold nothing back: once the operator
        # fixes them, the very next request must work.
        now = self._clock.now()
        seconds = min(
            self._retry_base * 2 ** min(connection.refresh_failures, 16), _RETRY_MAX_SECONDS
        )
        async with self._db.transaction() as session:
            if backoff:
                await repository.release_after_failure(
                    session,
                    connection.id,
                    owner=self._owner,
                    retry_at=now + timedelta(seconds=seconds),
                )
            else:
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
        TOKEN_REFRESHES.labels("failed").inc()
        log.warning(
            "amocrm_refresh_failed",
            connection_id=str(connection.id),
            reason=reason,
            retry_in_seconds=seconds if backoff else 0,
        )

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
