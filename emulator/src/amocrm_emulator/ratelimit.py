"""Per-account request limit: 429 beyond the rate, a 403 block after repeated violations.

amoCRM documents 7 requests per second and blocks accounts that keep exceeding it (403 with
an nginx HTML page). The limit is a token bucket holding one second's worth of requests; a
rejected request does not consume a token. Time here is real monotonic time: moving the
emulator's clock does not refill buckets or lift blocks.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

from amocrm_emulator.config import Switches


@dataclass
class _Bucket:
    tokens: float
    updated: float
    rejections: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    blocked: bool = False
    retry_after: int = 0


class RateLimiter:
    def __init__(self, switches: Switches) -> None:
        self.switches = switches
        self._buckets: dict[int, _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def check(self, account_id: int) -> Verdict:
        rate = self.switches.rate_limit
        if rate <= 0:
            return Verdict(allowed=True)
        now = time.monotonic()
        capacity = max(rate, 1.0)
        bucket = self._buckets.get(account_id)
        if bucket is None:
            bucket = self._buckets[account_id] = _Bucket(tokens=capacity, updated=now)
        if bucket.blocked_until > now:
            return Verdict(False, blocked=True, retry_after=math.ceil(bucket.blocked_until - now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Verdict(allowed=True)
        window_start = now - self.switches.block_window
        while bucket.rejections and bucket.rejections[0] < window_start:
            bucket.rejections.popleft()
        bucket.rejections.append(now)
        if len(bucket.rejections) >= self.switches.block_after > 0:
            bucket.blocked_until = now + self.switches.block_seconds
            bucket.rejections.clear()
            return Verdict(False, blocked=True, retry_after=math.ceil(self.switches.block_seconds))
        wait = (1.0 - bucket.tokens) / rate
        return Verdict(False, retry_after=max(1, math.ceil(wait)))
