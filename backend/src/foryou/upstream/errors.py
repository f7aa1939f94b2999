"""Signals inside the upstream package: a request budget that cannot be had (in time).

They never leave the package: `UpstreamClient` turns them into the vendor errors of
`foryou.integrations.amocrm.errors` (`AmoRateLimited`, `AmoUnavailable`).
"""

from __future__ import annotations

__all__ = ["LimiterUnavailable", "RateLimitWaitExceeded"]


class RateLimitWaitExceeded(Exception):
    """The next free slot of an account's request budget is further away than allowed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"the next upstream slot is {retry_after:.2f} s away")
        self.retry_after = retry_after


class LimiterUnavailable(Exception):
    """The shared store of request budgets and circuits (Redis) did not answer."""
