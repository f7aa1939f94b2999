"""Keep every amoCRM connection alive without a broker having to open the app.

One run: count the due connections, then claim them one at a time and refresh each through
the same `TokenProvider` the API uses (lease, call outside any transaction, compare-and-swap,
events), then wipe expired pending connect results and purge expired OAuth flows, then check
the agency connection (a warning before its long-lived token expires, expiry, brokers' names),
then follow each account's changes (its webhook checked or registered again, or its events
polled), then warm the caches of brokers who worked within the last day (only with budget
nobody is waiting for), then log one line with the counts.

A connection is due when its access token expires within `FORYOU_WORKER_REFRESH_AHEAD_SECONDS`
(or already has), or when its last refresh (or connection) is older than
`FORYOU_WORKER_KEEPALIVE_DAYS`: amoCRM's refresh tokens die after three months unused. Rows are
claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL and the refresh lease everywhere, so any
number of workers (and the API processes) share the work and never refresh one connection
twice. A refresh that fails without a verdict is held back by the connection's backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from foryou.agency.service import AgencyService
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crm.warm import CacheWarmer
from foryou.db import Database
from foryou.errors import AppError
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.errors import AmoReauthRequired
from foryou.integrations.amocrm.tokens import TokenProvider
from foryou.live.service import LiveService
from foryou.logging import get_logger

log = get_logger(__name__)

# Expired flows are kept a little past their expiry so a late callback still gets a clear
# "expired" rather than "unknown".
FLOW_PURGE_GRACE = timedelta(hours=1)


@dataclass
class RunCounts:
    due: int = 0
    refreshed: int = 0
    failed: int = 0
    reauth: int = 0
    purged: int = 0
    pending_wiped: int = 0
    agency_warned: int = 0
    agency_expired: int = 0
    warmed: int = 0


class KeepAliveWorker:
    def __init__(
        self,
        *,
        db: Database,
        tokens: TokenProvider,
        clock: Clock,
        settings: Settings,
        agency: AgencyService | None = None,
        live: LiveService | None = None,
        warmer: CacheWarmer | None = None,
    ) -> None:
        self._warmer = warmer
        self._db = db
        self._tokens = tokens
        self._agency = agency
        self._live = live
        self._clock = clock
        self._interval = settings.worker_interval_seconds
        self._ahead = timedelta(seconds=settings.worker_refresh_ahead_seconds)
        self._keepalive = timedelta(days=settings.worker_keepalive_days)
        self._lease = timedelta(seconds=settings.amocrm_refresh_lease_seconds)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the worker to stop after the item in hand (a refresh is never cut in half)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run_forever(self) -> None:
        """Run every interval until `stop()`; a failed run is logged and the next one comes."""
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except (SQLAlchemyError, OSError) as error:
                log.error("worker_run_failed", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
        log.info("worker_stopped")

    async def run_once(self) -> RunCounts:
        counts = RunCounts()
        now = self._clock.now()
        async with self._db.transaction() as session:
            counts.due = await repository.count_due(
                session,
                now=now,
                refresh_before=now + self._ahead,
                stale_before=now - self._keepalive,
            )
        tried: list[uuid.UUID] = []
        while not self._stopping.is_set():
            now = self._clock.now()
            async with self._db.write_transaction() as session:
                connection = await repository.claim_due_connection(
                    session,
                    owner=self._tokens.lease_owner,
                    now=now,
                    refresh_before=now + self._ahead,
                    stale_before=now - self._keepalive,
                    lease_until=now + self._lease,
                    exclude=tried,
                )
            if connection is None:
                break
            tried.append(connection.id)
            try:
                await self._tokens.keep_alive(connection)
            except AmoReauthRequired:
                counts.reauth += 1
            except AppError:
                counts.failed += 1
            else:
                counts.refreshed += 1
        if not self._stopping.is_set():
            now = self._clock.now()
            async with self._db.transaction() as session:
                # Unredeemed results lose their tokens at expiry; the flow rows go later.
                counts.pending_wiped = await repository.wipe_expired_pending(session, now)
                counts.purged = await repository.purge_flows(session, now - FLOW_PURGE_GRACE)
        if self._agency is not None and not self._stopping.is_set():
            checks = await self._agency.run_checks()
            counts.agency_warned, counts.agency_expired = checks.warned, checks.expired
        if self._live is not None and not self._stopping.is_set():
            # Each account's webhook checked (registered again when missing or disabled), or
            # its events polled where no admin can register one.
            await self._live.follow_accounts()
            await self._live.settled()
        if self._warmer is not None and not self._stopping.is_set():
            # Last: it takes only budget nobody waits for, and gives way when brokers come.
            warmed = await self._warmer.warm_recent(self._stopping.is_set)
            counts.warmed = warmed.warmed
        log.info(
            "worker_run",
            due=counts.due,
            refreshed=counts.refreshed,
            failed=counts.failed,
            reauth=counts.reauth,
            purged=counts.purged,
            pending_wiped=counts.pending_wiped,
            agency_warned=counts.agency_warned,
            agency_expired=counts.agency_expired,
            warmed=counts.warmed,
        )
        return counts
