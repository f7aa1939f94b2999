"""Warm caches before the brokers arrive: at nine o'clock fifty brokers open the CRM tab within
seconds, and amoCRM's 7 requests per second per account cannot answer fifty cold first lists
in time. The worker reads, with budget nobody is waiting for, what each broker who worked
within the last day will ask for first; while amoCRM's changes are followed those copies live
for minutes and are retired precisely when something in them changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from foryou.clock import Clock
from foryou.crm.domain import Broker
from foryou.crm.service import CrmService
from foryou.errors import AppError
from foryou.logging import get_logger

log = get_logger(__name__)


@dataclass
class WarmCounts:
    recent: int = 0
    warmed: int = 0
    # The account's budget was busy (brokers were waiting): its other brokers wait a run.
    busy: int = 0
    # Copies would live seconds (amoCRM's changes are not followed): not worth a call.
    unfollowed: int = 0
    failed: int = 0


class CacheWarmer:
    def __init__(self, crm: CrmService, clock: Clock, *, active_hours: float) -> None:
        self._crm = crm
        self._clock = clock
        self._window = timedelta(hours=active_hours)

    async def warm_recent(self, stopping: Callable[[], bool] = lambda: False) -> WarmCounts:
        """One pass over the brokers who worked within the window, the latest first, until
        `stopping()` says the process is shutting down."""
        counts = WarmCounts()
        if self._window <= timedelta(0):
            return counts
        recent = await self._crm.activity.recent(self._clock.now() - self._window)
        counts.recent = len(recent)
        busy_accounts: set[int] = set()
        for broker in recent:
            if stopping():
                break
            if broker.account_id in busy_accounts:
                counts.busy += 1
                continue
            try:
                outcome = await self._crm.warm(Broker(user_id=broker.user_id, name=broker.name))
            except AppError as error:
                # A broker who must reconnect, or amoCRM unavailable: the others still warm.
                counts.failed += 1
                log.info("cache_warm_failed", error_type=type(error).__name__)
                continue
            except Exception:  # work nobody waits for must never stop the worker's run
                counts.failed += 1
                log.exception("cache_warm_crashed")
                continue
            if outcome == "busy":
                busy_accounts.add(broker.account_id)
                counts.busy += 1
            elif outcome == "unfollowed":
                counts.unfollowed += 1
            else:
                counts.warmed += 1
        return counts
