"""Who uses the CRM through the app: what the events poll follows and the worker warms.

- active now: the broker made a CRM request within the last half hour (a cache mark);
- watching: the broker holds a live stream open (a cache mark that outlives one stream);
- worked today: the connection's `last_active_at`, written at most every half hour, so it
  survives restarts and the worker can warm a broker's caches before they open the app.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from foryou.clock import Clock
from foryou.crm import repository
from foryou.crm.cache import CrmCache
from foryou.db import Database
from foryou.integrations.amocrm.tokens import UsableToken
from foryou.logging import get_logger

log = get_logger(__name__)

# A broker counts as active this long after their first request; their connection row is
# written once per such window, never once per request.
ACTIVE_SECONDS = 1800.0


@dataclass(frozen=True)
class RecentBroker:
    """A broker with an active connection who used the CRM recently."""

    user_id: uuid.UUID
    name: str
    account_id: int
    amo_user_id: int
    last_active_at: datetime


class BrokerActivity:
    def __init__(self, db: Database, cache: CrmCache, clock: Clock) -> None:
        self._db = db
        self._cache = cache
        self._clock = clock

    async def seen(self, token: UsableToken) -> None:
        """The broker used the CRM just now."""
        if not await self._cache.add_once(
            _active_key(token.account_id, token.amo_user_id), ACTIVE_SECONDS
        ):
            return
        try:
            async with self._db.transaction() as session:
                await repository.touch_active(session, token.connection_id, self._clock.now())
        except SQLAlchemyError as error:
            # Bookkeeping for the worker: a busy database must not fail the broker's request.
            log.warning("activity_not_recorded", error_type=type(error).__name__)

    async def is_active(self, account_id: int, amo_user_id: int) -> bool:
        return await self._cache.get(_active_key(account_id, amo_user_id)) is not None

    async def watching(self, user_id: uuid.UUID, seconds: float) -> None:
        """The broker opened a live stream (it lasts at most `seconds`, then reconnects)."""
        await self._cache.set(_watching_key(user_id), 1, seconds)

    async def is_watching(self, user_id: uuid.UUID) -> bool:
        return await self._cache.get(_watching_key(user_id)) is not None

    async def recent(self, since: datetime) -> list[RecentBroker]:
        """Brokers who used the CRM (or connected) since `since`, the latest first."""
        async with self._db.transaction() as session:
            return [RecentBroker(*row) for row in await repository.recently_active(session, since)]


def _active_key(account_id: int, amo_user_id: int) -> str:
    return f"active:{account_id}:{amo_user_id}"


def _watching_key(user_id: uuid.UUID) -> str:
    return f"watching:{user_id}"
