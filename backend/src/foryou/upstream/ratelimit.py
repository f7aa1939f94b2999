"""Per-account request budgets for amoCRM.

amoCRM answers 429 above about 7 requests per second per account and blocks the whole account
with 403 when pushed further, so every call to an account first takes a slot from that
account's budget. Both limiters implement GCRA (the generic cell rate algorithm) with
reservations: a caller is given the earliest free slot, books it at once and sleeps until it
comes. Slots are handed out in arrival order, so waiting is fair (FIFO) and nobody polls.

With ``rate`` r and ``burst`` b, any window of one second holds at most ``b + floor(r)``
slots when ``r`` is not a whole number: the defaults (6.5 and 1) give at most 7, the most amoCRM
accepts, and the schedule is 154 ms between requests, so a request would have to arrive
77 ms early for an eighth to land in one second.
"""

from __future__ import annotations

import asyncio
import math
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .errors import LimiterUnavailable, RateLimitWaitExceeded

__all__ = [
    "DEFAULT_BURST",
    "DEFAULT_RATE",
    "InProcessRateLimiter",
    "RateLimitWaitExceeded",
    "RateLimiter",
    "RedisRateLimiter",
]

#: Requests per second per amoCRM account: a little under the documented 7.
DEFAULT_RATE = 6.5
#: Requests that may go at once after an idle period.
DEFAULT_BURST = 1


class RateLimiter(Protocol):
    """A request budget per key (one key per amoCRM account)."""

    async def acquire(self, key: str, *, max_wait: float) -> float:
        """Wait for the key's next slot and return the seconds waited.

        Raises:
            RateLimitWaitExceeded: The slot is more than ``max_wait`` seconds away; nothing
                was booked, and ``retry_after`` says how far away it is.
        """
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """Give out no slot of ``key`` for the next ``seconds`` (after a 429 from amoCRM)."""
        ...

    async def booked_ahead(self, key: str) -> float:
        """How long a caller arriving now would wait for a slot of ``key`` (0: the budget is
        idle), booking nothing. Background work asks first and yields to the brokers."""
        ...


def _check_rate(rate: float, burst: int) -> None:
    if not math.isfinite(rate) or rate <= 0:
        msg = "rate must be a positive number of requests per second"
        raise ValueError(msg)
    if burst < 1:
        msg = "burst must be at least 1"
        raise ValueError(msg)


class InProcessRateLimiter:
    """GCRA budgets kept in this process: enough for one process without Redis.

    Booking a slot happens without awaiting anything, so it is atomic within the event loop;
    the caller then sleeps until its slot, so callers go in the order they arrived.
    """

    def __init__(self, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST) -> None:
        _check_rate(rate, burst)
        self.rate = rate
        self.burst = burst
        self._interval = 1.0 / rate
        self._tolerance = (burst - 1) * self._interval
        # key -> theoretical arrival time of the next request, on the event loop's clock
        self._tat: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"InProcessRateLimiter(rate={self.rate:g}, burst={self.burst})"

    async def acquire(self, key: str, *, max_wait: float) -> float:
        now = asyncio.get_running_loop().time()
        tat = max(self._tat.get(key, now), now)
        wait = max(0.0, tat - self._tolerance - now)
        if wait > max_wait:
            raise RateLimitWaitExceeded(wait)
        self._tat[key] = tat + self._interval
        self._forget_idle(now)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    async def pause(self, key: str, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        resume_tat = now + max(0.0, seconds) + self._tolerance
        self._tat[key] = max(self._tat.get(key, now), resume_tat)

    async def booked_ahead(self, key: str) -> float:
        now = asyncio.get_running_loop().time()
        return max(0.0, self._tat.get(key, now) - self._tolerance - now)

    def _forget_idle(self, now: float) -> None:
        # Keys whose budget is fully recovered carry no state; drop them so that the table
        # stays as small as the number of accounts active right now.
        if len(self._tat) > 1024:
            for key in [k for k, tat in self._tat.items() if tat < now]:
                del self._tat[key]


# Time comes from Redis (TIME), never from the callers' clocks, so any number of processes on
# any number of machines share one schedule. Times are integers of microseconds.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > max_wait then return {0, string.format('%.0f', wait)} end
local next_tat = tat + interval
local ttl_ms = math.ceil((next_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl_ms)
return {1, string.format('%.0f', wait)}
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local resume_tat = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < resume_tat then
  local ttl_ms = math.ceil((resume_tat - now) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', resume_tat), 'PX', ttl_ms)
end
return 1
"""

_BOOKED_AHEAD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local wait = tat - tonumber(ARGV[1]) - now
if wait < 0 then wait = 0 end
return string.format('%.0f', wait)
"""

_MICRO = 1_000_000


class RedisRateLimiter:
    """GCRA budgets in Redis, shared by every process and replica that uses the same Redis.

    One Lua script reads Redis's clock, books the slot and returns the wait, so booking is one
    atomic round trip and the wait is computed, not polled.

    Args:
        redis: An asyncio Redis client.
        rate: Requests per second per key.
        burst: Requests that may go at once after an idle period.
        prefix: Prefix of the Redis keys (one key per account: ``{prefix}{key}``).
    """

    def __init__(
        self,
        redis: Redis,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        prefix: str = "foryou:amo:rl:",
    ) -> None:
        _check_rate(rate, burst)
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._redis = redis
        self._interval_us = round(_MICRO / rate)
        self._tolerance_us = (burst - 1) * self._interval_us
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)
        self._booked_ahead = redis.register_script(_BOOKED_AHEAD)

    def __repr__(self) -> str:
        return f"RedisRateLimiter(rate={self.rate:g}, burst={self.burst}, prefix={self.prefix!r})"

    async def acquire(self, key: str, *, max_wait: float) -> float:
        max_wait_us = max(0, math.floor(max_wait * _MICRO))
        try:
            booked, wait_us = await self._acquire(
                keys=[self.prefix + key],
                args=[self._interval_us, self._tolerance_us, max_wait_us],
            )
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable("the shared request budget (Redis) did not answer") from exc
        wait = int(wait_us) / _MICRO
        if not int(booked):
            raise RateLimitWaitExceeded(wait)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    async def pause(self, key: str, seconds: float) -> None:
        pause_us = max(0, math.ceil(seconds * _MICRO))
        try:
            await self._pause(keys=[self.prefix + key], args=[pause_us, self._tolerance_us])
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable("the shared request budget (Redis) did not answer") from exc

    async def booked_ahead(self, key: str) -> float:
        try:
            wait_us = await self._booked_ahead(keys=[self.prefix + key], args=[self._tolerance_us])
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable("the shared request budget (Redis) did not answer") from exc
        return int(wait_us) / _MICRO
