"""When a call to amoCRM is tried again, and how long to wait first."""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

#: Methods that may be sent twice without changing the outcome (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Retry, wait and timeout settings for calls to amoCRM.

    Attributes:
        max_attempts: Tries in total, the first one included.
        backoff_base: Upper bound of the first backoff, in seconds.
        backoff_cap: Upper bound of any backoff, in seconds.
        max_queue_wait: Longest wait for a slot of the account's budget (and for a pause to
            end) before the call fails with `AmoRateLimited`.
        max_retry_after: Longest `Retry-After` waited for inside one call; a longer one is
            handed to our own client as `Retry-After` instead.
        retry_statuses: amoCRM statuses retried for idempotent requests, besides 429.
        timeout: Default timeout of one attempt, in seconds.
        rng: Source of jitter.
    """

    max_attempts: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_queue_wait: float = 5.0
    max_retry_after: float = 10.0
    retry_statuses: frozenset[int] = frozenset({502, 503, 504})
    timeout: float = 10.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            msg = "max_attempts must be at least 1"
            raise ValueError(msg)
        for name in ("backoff_base", "backoff_cap", "max_queue_wait", "max_retry_after"):
            if not getattr(self, name) >= 0:
                msg = f"{name} must be a number of seconds, not negative"
                raise ValueError(msg)
        if not self.timeout > 0:
            msg = "timeout must be positive"
            raise ValueError(msg)

    def backoff_ceiling(self, attempt: int) -> float:
        """The largest backoff after failed attempt number ``attempt`` (1-based)."""
        try:
            doubled = math.ldexp(self.backoff_base, max(0, attempt - 1))
        except OverflowError:
            doubled = math.inf
        return min(self.backoff_cap, doubled)

    def backoff(self, attempt: int) -> float:
        """Full-jitter backoff after failed attempt ``attempt``: uniform in [0, ceiling].

        Full jitter spreads the retries of many callers that failed at the same moment over
        the whole interval, instead of sending them back together.
        """
        return self.rng.uniform(0.0, self.backoff_ceiling(attempt))


def parse_retry_after(
    value: str | None, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Read a `Retry-After` header: delay seconds or an HTTP-date (RFC 9110 §10.2.3).

    Returns:
        Seconds to wait (0 for a date in the past), or None when absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # HTTP-dates are always GMT; a date without a zone is read as such.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())
