"""Short-lived copies of amoCRM answers, so the CRM tab costs the shared budget little.

Redis when configured (every replica sees the same copies), in-process otherwise. The cache
only ever saves upstream calls: when Redis fails, a read is a miss and a write is dropped.
Reads of amoCRM go through :class:`CachedReads`; times come from the injected clock.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from foryou.clock import Clock
from foryou.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")

# Generations outlive every entry they guard (a day is far above any TTL here).
_GENERATION_TTL_SECONDS = 86_400.0
# Bounds the in-process store; the least recently written entries go first.
_MAX_LOCAL_ENTRIES = 20_000


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(value: Any) -> str:
    """JSON text of a cached value; datetimes become ISO-8601 strings."""
    return json.dumps(value, default=_plain, separators=(",", ":"))


class CrmCache(Protocol):
    async def get(self, key: str) -> Any | None:
        """The JSON value stored under `key`, or None when absent or expired."""
        ...

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str) -> int:
        """Bump a counter (used as a generation number that retires older entries)."""
        ...

    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        """Mark `key` for `ttl_seconds`; False when it was already marked (first one wins)."""
        ...

    async def pop(self, key: str) -> Any | None:
        """Take the value out: only one caller ever gets it."""
        ...


class LocalCache:
    """One process's cache: a bounded dict with expiry times on the injected clock."""

    def __init__(self, clock: Clock, max_entries: int = _MAX_LOCAL_ENTRIES) -> None:
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._clock = clock
        self._max_entries = max_entries

    async def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, payload = entry
        if expires <= self._clock.now().timestamp():
            self._entries.pop(key, None)
            return None
        return json.loads(payload)

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        # Stored as JSON text, so a caller can never mutate a cached value in place.
        self._entries[key] = (self._clock.now().timestamp() + ttl_seconds, encode(value))
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def incr(self, key: str) -> int:
        current = await self.get(key)
        value = (current if isinstance(current, int) else 0) + 1
        await self.set(key, value, _GENERATION_TTL_SECONDS)
        return value

    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, 1, ttl_seconds)
        return True

    async def pop(self, key: str) -> Any | None:
        value = await self.get(key)
        self._entries.pop(key, None)
        return value


class RedisCache:
    """The cache shared by every replica; keys carry the deployment's Redis prefix."""

    def __init__(self, redis: Redis[Any], prefix: str, clock: Clock) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock

    async def get(self, key: str) -> Any | None:
        try:
            payload = await self._redis.get(self._prefix + key)
        except RedisError as error:
            log.warning("crm_cache_unavailable", error_type=type(error).__name__)
            return None
        return json.loads(payload) if payload is not None else None

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None:
        milliseconds = max(1, int(ttl_seconds * 1000))
        try:
            await self._redis.set(self._prefix + key, encode(value), px=milliseconds)
        except RedisError as error:
            log.warning("crm_cache_unavailable", error_type=type(error).__name__)

    async def delete(self, key: str) -> None:
        try:
            await self._redis.delete(self._prefix + key)
        except RedisError as error:
            log.warning("crm_cache_unavailable", error_type=type(error).__name__)

    async def incr(self, key: str) -> int:
        try:
            value = await self._redis.incr(self._prefix + key)
            await self._redis.expire(self._prefix + key, int(_GENERATION_TTL_SECONDS))
        except RedisError as error:
            log.warning("crm_cache_unavailable", error_type=type(error).__name__)
            return int(self._clock.now().timestamp() * 1000)
        return int(value)

    async def add_once(self, key: str, ttl_seconds: float) -> bool:
        milliseconds = max(1, int(ttl_seconds * 1000))
        try:
            added = await self._redis.set(self._prefix + key, "1", px=milliseconds, nx=True)
        except RedisError as error:
            # Without Redis a duplicate may pass; dropping a real change would be worse.
            log.warning("crm_cache_unavailable", error_type=type(error).__name__)
            return True
        return bool(added)

    async def pop(self, key: str) -> Any | None:
        try:
            payload = await self._redis.getdel(self._prefix + key)
        except RedisError as error:
            log.warning("crm_cache_unavailable", error_type=type(error).__name__)
            return None
        return json.loads(payload) if payload is not None else None


def build_cache(redis: Redis[Any] | None, prefix: str, clock: Clock) -> CrmCache:
    if redis is not None:
        return RedisCache(redis, f"{prefix}crm:", clock)
    return LocalCache(clock)


class SingleFlight:
    """Concurrent misses of one key in this process share one upstream call."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, produce: Callable[[], Awaitable[T]]) -> T:
        pending = self._inflight.get(key)
        if pending is not None:
            result: T = await asyncio.shield(pending)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await produce()
        except BaseException as error:
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                # Retrieved here, so a failure nobody else awaited is not reported twice.
                future.exception()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            self._inflight.pop(key, None)


@dataclass(frozen=True)
class CachedRead(Generic[T]):
    """One kind of amoCRM read kept in the cache, and how its result is stored there."""

    # The entry's field holding the result (entries are {"at": read at, <field>: result}).
    field: str
    ttl_seconds: float
    # `refresh=true` reads amoCRM again only when the copy is at least this old, so a finger
    # on pull-to-refresh cannot drain the account's shared budget.
    min_refresh_seconds: float
    to_json: Callable[[T], Any]
    from_json: Callable[[Any], T]
    # Concurrent misses of one key in this process share one upstream read.
    single_flight: bool = False


class CachedReads:
    """A copy while it lives; on a miss (or a refresh of an old enough copy) a read of amoCRM."""

    def __init__(self, cache: CrmCache, clock: Clock) -> None:
        self._cache = cache
        self._clock = clock
        self._flights = SingleFlight()

    async def read(
        self,
        kind: CachedRead[T],
        key: str,
        fetch: Callable[[], Awaitable[T]],
        *,
        refresh: bool = False,
        ttl_seconds: float | None = None,
    ) -> T:
        """`ttl_seconds` overrides the kind's lifetime (longer while amoCRM's changes are
        followed, since they retire the copies they touch)."""
        cached = await self._cache.get(key)
        if cached is not None and not (
            refresh and self._now() - cached["at"] >= kind.min_refresh_seconds
        ):
            return kind.from_json(cached[kind.field])

        async def fetch_and_keep() -> T:
            result = await fetch()
            entry = {"at": self._now(), kind.field: kind.to_json(result)}
            await self._cache.set(key, entry, ttl_seconds or kind.ttl_seconds)
            return result

        if kind.single_flight:
            return await self._flights.run(f"{key}:{refresh}", fetch_and_keep)
        return await fetch_and_keep()

    def _now(self) -> float:
        return self._clock.now().timestamp()
