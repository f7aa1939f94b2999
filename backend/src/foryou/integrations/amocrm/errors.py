"""Everything that goes wrong while talking to amoCRM, and the one mapping onto our API.

One tree of vendor errors, rooted in `AmoCrmError`. Failures of amoCRM itself (no answer, a
5xx, 402, 429, a block) are raised by `foryou.upstream.UpstreamClient`; amoCRM's verdict on
one request (401, 403, 400/422, a payload that is not what amoCRM documents) by the client
and the CRM gateway (`raise_for_api_status`). Services catch them; `to_app_error` is the only
place where one becomes an error of our envelope.
"""

from __future__ import annotations

import math

from foryou.errors import AppError

# --- vendor errors -------------------------------------------------------------------------


class AmoCrmError(Exception):
    """Base of everything that goes wrong while talking to amoCRM.

    Attributes:
        retry_after: Seconds after which trying again makes sense, or None when unknown.
        upstream_status: amoCRM's HTTP status, or None when no answer arrived.
        outcome_unknown: True when the request may have been processed although no answer
            arrived (a timeout or a dropped connection after sending a write). For a token
            request that means amoCRM may already have rotated the refresh token.
        never_sent: True when our side stopped the request before it left (the shared
            request budget unreachable or booked too far ahead, the account's circuit open):
            amoCRM never saw it, so it says nothing about amoCRM or the tokens.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        upstream_status: int | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.upstream_status = upstream_status
        self.outcome_unknown = outcome_unknown
        self.never_sent = False

    @property
    def retry_after_header(self) -> str | None:
        """The `Retry-After` value our API sends with this failure, or None: whole seconds,
        rounded up, at least 1."""
        if self.retry_after is None:
            return None
        return str(max(1, math.ceil(self.retry_after)))


class AmoTimeout(AmoCrmError):
    """amoCRM did not answer in time (our timeout, or amoCRM's own 504)."""


class AmoUnavailable(AmoCrmError):
    """amoCRM could not be reached, dropped the connection, answered 502/503, or asked us to
    wait; with `retry_after` set amoCRM (or our budget) refused the call before doing it."""


class AmoRateLimited(AmoUnavailable):
    """The account's request budget is used up: amoCRM answered 429, or our queue is too long."""


class AmoBlocked(AmoUnavailable):
    """amoCRM blocked the account (403 block page); calls are stopped until the circuit closes."""


class AmoPaymentRequired(AmoCrmError):
    """402: the account's amoCRM subscription has ended; retrying does not help."""


class AmoBadResponse(AmoCrmError):
    """A server error that retrying does not fix (500 and the like), a redirect, an unexpected
    status, or a payload that is not what amoCRM documents."""

    def __init__(
        self, message: str, status: int | None = None, *, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message, upstream_status=status, outcome_unknown=outcome_unknown)

    @property
    def status(self) -> int | None:
        return self.upstream_status


class AmoRejected(AmoBadResponse):
    """amoCRM refused the request as invalid (400/422): sending it again changes nothing."""


class AmoUnauthorized(AmoCrmError):
    """The API refused the access token (401): refresh once and retry once."""


class AmoForbidden(AmoCrmError):
    """403 (not the block page): the user's rights do not allow it."""


class AmoGrantRejected(AmoCrmError):
    """The token endpoint refused the code or refresh token (400/401 with a hint)."""

    def __init__(self, message: str, status: int, hint: str | None) -> None:
        super().__init__(message, upstream_status=status)
        self.status = status
        self.hint = hint


class AmoClientRejected(AmoCrmError):
    """The token endpoint refused our client id, secret or Redirect URI (401, no hint):
    a configuration problem of ours, never a verdict on the broker's tokens."""


# --- errors our API answers with -----------------------------------------------------------


class AmoNotConnected(AppError):
    status_code = 409
    code = "amo_not_connected"
    message = "Connect your amoCRM account first."


class AmoReauthRequired(AppError):
    status_code = 409
    code = "amo_reauth_required"
    message = "Your amoCRM connection needs to be authorised again."


class AmoUpstreamError(AppError):
    status_code = 502
    code = "amo_upstream_error"
    message = "amoCRM answered with an error."


class AmoUpstreamUnavailable(AppError):
    status_code = 503
    code = "amo_upstream_unavailable"
    message = "amoCRM is not available right now; try again shortly."


class AmoUpstreamTimeout(AppError):
    status_code = 504
    code = "amo_upstream_timeout"
    message = "amoCRM did not answer in time."


class AmoSubscriptionExpired(AppError):
    status_code = 402
    code = "amo_subscription_expired"
    message = "The agency's amoCRM subscription has ended; amoCRM refuses calls until renewed."


class TokenKeysUnavailable(AppError):
    status_code = 503
    code = "token_keys_unavailable"
    message = "Stored amoCRM tokens cannot be read with the configured keys."


class AmoAccessForbidden(AppError):
    status_code = 403
    code = "amo_forbidden"
    message = "amoCRM does not allow this for your user."


# Without a known wait, a caller told "unavailable" tries again after this many seconds.
_DEFAULT_UNAVAILABLE_RETRY_AFTER = "5"


def to_app_error(error: AmoCrmError) -> AppError:
    """The one mapping of a vendor error onto the API's stable codes, with `Retry-After`
    wherever amoCRM or our budget named a wait."""
    known_wait = error.retry_after_header
    if isinstance(error, AmoTimeout):
        return AmoUpstreamTimeout(headers={"Retry-After": known_wait} if known_wait else None)
    if isinstance(error, AmoUnavailable):
        return AmoUpstreamUnavailable(
            headers={"Retry-After": known_wait or _DEFAULT_UNAVAILABLE_RETRY_AFTER}
        )
    if isinstance(error, AmoForbidden):
        return AmoAccessForbidden()
    if isinstance(error, AmoPaymentRequired):
        return AmoSubscriptionExpired()
    return AmoUpstreamError()
