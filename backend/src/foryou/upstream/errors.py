"""Typed failures of calls to amoCRM.

Every error carries what the HTTP layer needs to answer our own client: the status to answer
with (502, 503 or 504), a machine-readable code, and the seconds after which a retry makes
sense (`Retry-After`), when that is known.
"""

from __future__ import annotations

import math

__all__ = [
    "LimiterUnavailable",
    "RateLimitWaitExceeded",
    "UpstreamBlocked",
    "UpstreamError",
    "UpstreamPaymentRequired",
    "UpstreamRateLimited",
    "UpstreamServerError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]


def retry_after_header(seconds: float | None) -> str | None:
    """Render seconds as a `Retry-After` value: whole seconds, rounded up, at least 1."""
    if seconds is None:
        return None
    return str(max(1, math.ceil(seconds)))


class RateLimitWaitExceeded(Exception):
    """The next free slot of an account's request budget is further away than allowed."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"the next upstream slot is {retry_after:.2f} s away")
        self.retry_after = retry_after


class LimiterUnavailable(Exception):
    """The shared store of request budgets and circuits (Redis) did not answer."""


class UpstreamError(Exception):
    """A call to amoCRM failed in a way the caller cannot fix by changing the request.

    Attributes:
        code: Machine-readable error code for our API envelope.
        http_status: Status our API answers with (502, 503 or 504).
        retry_after: Seconds after which trying again makes sense, or None.
        upstream_status: amoCRM's HTTP status, or None when no answer arrived.
        outcome_unknown: True when the request may have been processed by amoCRM although no
            answer arrived (a timeout or a dropped connection after sending a write).
    """

    code = "amo_upstream_error"
    default_http_status = 502

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        upstream_status: int | None = None,
        outcome_unknown: bool = False,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.upstream_status = upstream_status
        self.outcome_unknown = outcome_unknown
        self.http_status = http_status if http_status is not None else self.default_http_status

    @property
    def retry_after_header(self) -> str | None:
        """The `Retry-After` header value our API should send, or None."""
        return retry_after_header(self.retry_after)


class UpstreamTimeout(UpstreamError):
    """amoCRM did not answer in time (our timeout, or amoCRM's own 504)."""

    code = "amo_timeout"
    default_http_status = 504


class UpstreamUnavailable(UpstreamError):
    """amoCRM could not be reached, dropped the connection, or answered 502/503."""

    code = "amo_unavailable"
    default_http_status = 503


class UpstreamServerError(UpstreamError):
    """amoCRM answered with a server error that retrying does not fix (500 and the like)."""

    code = "amo_server_error"
    default_http_status = 502


class UpstreamRateLimited(UpstreamError):
    """The account's request budget is used up: amoCRM answered 429, or our queue is too long."""

    code = "amo_rate_limited"
    default_http_status = 503


class UpstreamBlocked(UpstreamError):
    """amoCRM blocked the account (403 block page); calls are stopped until the circuit closes."""

    code = "amo_blocked"
    default_http_status = 503


class UpstreamPaymentRequired(UpstreamError):
    """The amoCRM subscription of the account has ended (402); not retried."""

    code = "amo_subscription_expired"
    default_http_status = 502
