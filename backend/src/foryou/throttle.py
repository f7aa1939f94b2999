"""Attempt throttles: a few free attempts per window, then a growing, capped penalty.

A throttle answers one question per attempt: may this key (a normalised e-mail, a client
address) try now? Each key has a number of free attempts per window. The attempt past them
starts a penalty during which every attempt of the key is refused without being looked at;
each further penalty within the memory period lasts twice as long, up to a cap. Nothing is
ever locked for good: penalties end by the clock, and the memory of past penalties fades.

Attempts are counted *before* the guarded work runs (a password check, a code exchange), so
parallel attempts cannot slip past the count. A caller undoes the count of an attempt that
turned out fine with `refund` (an office behind one address is not punished for its
brokers' successful logins), or forgets a key entirely with `clear` (a successful login
clears the account's failures).

Redis holds the counts when configured, so every process and replica shares them; keys are
hashed, so no e-mail address is stored in Redis. When Redis does not answer, the process
falls back to its own counts: throttling gets weaker across replicas for that time, but
login keeps working.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from foryou.errors import AppError
from foryou.logging import get_logger

log = get_logger(__name__)


class TooManyAttempts(AppError):
    """429 with `Retry-After`: the key used up its attempts; `retry_after` is in seconds."""

    status_code = 429
    code = "too_many_requests"
    message = "Too many attempts. Try again later."

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(headers={"Retry-After": str(seconds)})
        self.retry_after = seconds


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many attempts a key gets and how long it waits after using them up.

    Attributes:
        attempts: Free attempts per window.
        window_seconds: Length of the window the free attempts are counted in.
        penalty_seconds: The first penalty; each further one within `memory_seconds` doubles.
        max_penalty_seconds: No penalty lasts longer than this.
        memory_seconds: How long past penalties count towards the next one.
    """

    attempts: int
    window_seconds: float = 60.0
    penalty_seconds: float = 60.0
    max_penalty_seconds: float = 900.0
    memory_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            msg = "attempts must be at least 1"
            raise ValueError(msg)
        if not 0 < self.penalty_seconds <= self.max_penalty_seconds:
            msg = "penalty_seconds must be positive and at most max_penalty_seconds"
            raise ValueError(msg)

    def penalty(self, strikes: int) -> float:
        """The penalty for the `strikes`-th time (1-based) the attempts ran out."""
        doubled = self.penalty_seconds * float(2 ** min(strikes - 1, 32))
        return min(doubled, self.max_penalty_seconds)


class Throttle(Protocol):
    async def hit(self, key: str) -> float:
        """Count an attempt of `key`: 0 when it may go on, otherwise the seconds until the
        key may try again (the attempt is refused and not counted)."""
        ...

    async def refund(self, key: str) -> None:
        """Take back one counted attempt of `key` (it turned out to be legitimate)."""
        ...

    async def clear(self, key: str) -> None:
        """Forget `key`'s attempts and penalties."""
        ...


@dataclass
class _KeyState:
    count: int = 0
    window_ends: float = 0.0
    blocked_until: float = 0.0
    strikes: int = 0
    strikes_expire: float = 0.0


@dataclass
class InProcessThrottle:
    """Counts kept in this process: enough for one process without Redis.

    Every method runs without awaiting, so each is atomic within the event loop.
    """

    policy: ThrottlePolicy
    max_keys: int = 100_000
    _keys: dict[str, _KeyState] = field(default_factory=dict)

    async def hit(self, key: str) -> float:
        now = time.monotonic()
        state = self._keys.get(key)
        if state is None:
            self._forget_idle(now)
            state = self._keys[key] = _KeyState()
        if state.blocked_until > now:
            return state.blocked_until - now
        if state.window_ends <= now:
            state.count, state.window_ends = 0, now + self.policy.window_seconds
        state.count += 1
        if state.count <= self.policy.attempts:
            return 0.0
        if state.strikes_expire <= now:
            state.strikes = 0
        state.strikes += 1
        state.strikes_expire = now + self.policy.memory_seconds
        penalty = self.policy.penalty(state.strikes)
        state.blocked_until = now + penalty
        state.count, state.window_ends = 0, 0.0
        return penalty

    async def refund(self, key: str) -> None:
        state = self._keys.get(key)
        if state is not None and state.count > 0:
            state.count -= 1

    async def clear(self, key: str) -> None:
        self._keys.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        # Keys with no window, penalty or memory left carry nothing; an attacker spraying
        # addresses or e-mails must not grow the table without bound.
        if len(self._keys) < self.max_keys:
            return
        idle = [
            key
            for key, state in self._keys.items()
            if max(state.window_ends, state.blocked_until, state.strikes_expire) <= now
        ]
        for key in idle:
            del self._keys[key]
        if len(self._keys) >= self.max_keys:
            # All busy: drop the oldest entries rather than refuse to count new keys.
            for key in list(self._keys)[: self.max_keys // 10]:
                del self._keys[key]


# KEYS: count, block, strikes. ARGV: window ms, attempts, penalty ms, max penalty ms, memory ms.
# Redis's own expiry keeps the time, so every replica shares one clock.
_HIT = """
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return blocked end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if count <= tonumber(ARGV[2]) then return 0 end
local strikes = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
local penalty = math.min(tonumber(ARGV[3]) * 2 ^ math.min(strikes - 1, 32), tonumber(ARGV[4]))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(penalty))
redis.call('DEL', KEYS[1])
return math.floor(penalty)
"""

_REFUND = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 1
"""


def _millis(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisThrottle:
    """Counts in Redis, shared by every process and replica using the same Redis.

    Args:
        redis: An asyncio Redis client.
        policy: The attempts and penalties.
        prefix: Prefix of the Redis keys, naming the deployment and the throttle.
        fallback: Used while Redis does not answer.
    """

    def __init__(
        self, redis: Redis, policy: ThrottlePolicy, prefix: str, fallback: InProcessThrottle
    ) -> None:
        self.policy = policy
        self._redis = redis
        self._prefix = prefix
        self._fallback = fallback
        self._hit = redis.register_script(_HIT)
        self._refund = redis.register_script(_REFUND)

    def _keys(self, key: str) -> list[str]:
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return [
            f"{self._prefix}n:{digest}",
            f"{self._prefix}b:{digest}",
            f"{self._prefix}s:{digest}",
        ]

    async def hit(self, key: str) -> float:
        policy = self.policy
        try:
            millis = await self._hit(
                keys=self._keys(key),
                args=[
                    _millis(policy.window_seconds),
                    policy.attempts,
                    _millis(policy.penalty_seconds),
                    _millis(policy.max_penalty_seconds),
                    _millis(policy.memory_seconds),
                ],
            )
        except (RedisError, OSError):
            log.warning("throttle_store_unavailable", prefix=self._prefix)
            return await self._fallback.hit(key)
        return int(millis) / 1000

    async def refund(self, key: str) -> None:
        try:
            await self._refund(keys=self._keys(key)[:1])
        except (RedisError, OSError):
            await self._fallback.refund(key)

    async def clear(self, key: str) -> None:
        try:
            await self._redis.delete(*self._keys(key))
        except (RedisError, OSError):
            log.warning("throttle_store_unavailable", prefix=self._prefix)
        await self._fallback.clear(key)


def build_throttle(redis: Redis | None, policy: ThrottlePolicy, prefix: str) -> Throttle:
    """Redis-backed when a client is given, in-process otherwise."""
    local = InProcessThrottle(policy)
    if redis is None:
        return local
    return RedisThrottle(redis, policy, prefix, fallback=local)


async def guard(throttle: Throttle, key: str) -> None:
    """Count an attempt of `key`, or raise `TooManyAttempts` while it is held back."""
    wait = await throttle.hit(key)
    if wait > 0:
        raise TooManyAttempts(wait)
