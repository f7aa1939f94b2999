"""Per-account circuit: stop calling an amoCRM account that blocked us or asked us to wait.

Two states are kept per account, each with its own end time:

* **blocked**: amoCRM answered 403 with its block page (after repeated 429s). No call goes to
  that account until the period ends; more calls would only prolong the block.
* **paused**: amoCRM answered 429. No call goes out before its ``Retry-After`` has elapsed.

The Redis circuit is shared by every process using the same Redis, like the rate limiter; the
in-process one serves a single process without Redis. Redis keeps the end times as key expiry,
so Redis's clock decides, not the callers'.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .errors import LimiterUnavailable

__all__ = [
    "DEFAULT_BLOCK_SECONDS",
    "Circuit",
    "CircuitState",
    "InProcessCircuit",
    "RedisCircuit",
]

#: How long an account stays blocked after amoCRM's 403 block page when amoCRM says nothing.
DEFAULT_BLOCK_SECONDS = 600.0


@dataclass(frozen=True)
class CircuitState:
    """Seconds left of the account's block and of its pause (0 when there is none)."""

    blocked_for: float = 0.0
    paused_for: float = 0.0

    @property
    def closed(self) -> bool:
        return self.blocked_for <= 0 and self.paused_for <= 0


class Circuit(Protocol):
    """Where the block and pause of each account are kept."""

    block_seconds: float

    async def state(self, key: str) -> CircuitState:
        """Return the block and pause left for ``key``."""
        ...

    async def block(self, key: str, seconds: float) -> None:
        """Open the circuit of ``key`` for ``seconds`` (never shortening a longer block)."""
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """Hold calls to ``key`` for ``seconds`` (never shortening a longer pause)."""
        ...


class InProcessCircuit:
    """Circuit state kept in this process."""

    def __init__(self, block_seconds: float = DEFAULT_BLOCK_SECONDS) -> None:
        self.block_seconds = block_seconds
        self._blocked_until: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}

    async def state(self, key: str) -> CircuitState:
        now = asyncio.get_running_loop().time()
        blocked = self._blocked_until.get(key, now) - now
        paused = self._paused_until.get(key, now) - now
        if blocked <= 0:
            self._blocked_until.pop(key, None)
        if paused <= 0:
            self._paused_until.pop(key, None)
        return CircuitState(blocked_for=max(0.0, blocked), paused_for=max(0.0, paused))

    async def block(self, key: str, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._blocked_until[key] = max(self._blocked_until.get(key, until), until)

    async def pause(self, key: str, seconds: float) -> None:
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until[key] = max(self._paused_until.get(key, until), until)


# Sets the key with a time to live, unless it already lives longer.
_EXTEND = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class RedisCircuit:
    """Circuit state in Redis, shared by every process using it.

    Args:
        redis: An asyncio Redis client.
        block_seconds: How long a 403 block page keeps the circuit open.
        prefix: Prefix of the Redis keys (``{prefix}block:{key}``, ``{prefix}pause:{key}``).
    """

    def __init__(
        self,
        redis: Redis,
        block_seconds: float = DEFAULT_BLOCK_SECONDS,
        prefix: str = "foryou:amo:circuit:",
    ) -> None:
        self.block_seconds = block_seconds
        self.prefix = prefix
        self._redis = redis
        self._extend = redis.register_script(_EXTEND)

    async def state(self, key: str) -> CircuitState:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.pttl(self._block_key(key))
                pipe.pttl(self._pause_key(key))
                blocked_ms, paused_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable("the shared circuit state (Redis) did not answer") from exc
        # PTTL answers -2 for a missing key: nothing is open.
        return CircuitState(
            blocked_for=max(0, int(blocked_ms)) / 1000,
            paused_for=max(0, int(paused_ms)) / 1000,
        )

    async def block(self, key: str, seconds: float) -> None:
        await self._set_longer(self._block_key(key), seconds)

    async def pause(self, key: str, seconds: float) -> None:
        await self._set_longer(self._pause_key(key), seconds)

    async def _set_longer(self, redis_key: str, seconds: float) -> None:
        try:
            await self._extend(keys=[redis_key], args=[_millis(seconds)])
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable("the shared circuit state (Redis) did not answer") from exc

    def _block_key(self, key: str) -> str:
        return f"{self.prefix}block:{key}"

    def _pause_key(self, key: str) -> str:
        return f"{self.prefix}pause:{key}"


def _millis(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
