"""amoCRM failures, split by what the caller can do about them."""

from __future__ import annotations

from foryou.errors import AppError


class AmoCrmError(Exception):
    """Base of everything that goes wrong while talking to amoCRM.

    `outcome_unknown` is True when the request may have been processed although no answer
    arrived (a timeout or a dropped connection after sending a write). For a token request
    that means amoCRM may already have rotated the refresh token.
    """

    outcome_unknown: bool = False


class AmoTimeout(AmoCrmError):
    """No answer in time; for a token request the outcome is unknown."""

    def __init__(self, message: str, *, outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown


class AmoUnavailable(AmoCrmError):
    """Could not connect, or amoCRM asked us to slow down (429)."""

    def __init__(
        self, message: str, retry_after: int | None = None, *, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class AmoPaymentRequired(AmoCrmError):
    """402: the account's amoCRM subscription has ended; retrying does not help."""


class AmoBadResponse(AmoCrmError):
    """A 5xx, a redirect, or a payload that is not what amoCRM documents."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AmoUnauthorized(AmoCrmError):
    """The API refused the access token (401): refresh once and retry once."""


class AmoForbidden(AmoCrmError):
    """403: the user's rights do not allow it, or the account is blocked."""


class AmoGrantRejected(AmoCrmError):
    """The token endpoint refused the code or refresh token (400/401 with a hint)."""

    def __init__(self, message: str, status: int, hint: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


class AmoClientRejected(AmoCrmError):
    """The token endpoint refused our client id, secret or Redirect URI (401, no hint):
    a configuration problem of ours, never a verdict on the broker's tokens."""


# Errors our API returns for CRM calls.
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


def to_app_error(error: AmoCrmError) -> AppError:
    """Map an upstream failure onto the API's stable error codes."""
    if isinstance(error, AmoTimeout):
        return AmoUpstreamTimeout()
    if isinstance(error, AmoUnavailable):
        retry_after = str(error.retry_after or 5)
        return AmoUpstreamUnavailable(headers={"Retry-After": retry_after})
    if isinstance(error, AmoForbidden):
        return AmoAccessForbidden()
    if isinstance(error, AmoPaymentRequired):
        return AmoSubscriptionExpired()
    return AmoUpstreamError()
