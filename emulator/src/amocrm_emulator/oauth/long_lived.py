"""Long-lived tokens, as an account admin generates them in the integration's «Ключи» tab.

amoCRM (protocol reference §10): only an admin can generate one; it is a JWT with the same
claims as an OAuth access token, has no refresh token, and expires at 00:00 UTC of the date
the admin picks (1 day to 5 years ahead). After expiry or revocation the API answers 401 —
here that follows from the token being an ordinary access token with a far `exp`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from amocrm_emulator.core import Emulator
from amocrm_emulator.http import FieldError, plain_json, problem, read_json, validation_errors

MAX_LIFETIME_DAYS = 5 * 366


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def midnight_utc(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _expiry_day(data: dict[str, Any], today: date) -> date | FieldError:
    """The chosen date: `expires_at` (YYYY-MM-DD) or `days` from today, 1 day to 5 years."""
    raw_date, days = data.get("expires_at"), data.get("days")
    if (raw_date is None) == (days is None):
        return FieldError("InvalidValue", "expires_at", "give exactly one of expires_at or days")
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool):
            return FieldError("InvalidType", "days", "an integer")
        chosen = today + timedelta(days=days)
    else:
        try:
            chosen = date.fromisoformat(str(raw_date))
        except ValueError:
            return FieldError("InvalidValue", "expires_at", "a date YYYY-MM-DD")
    if not today < chosen <= today + timedelta(days=MAX_LIFETIME_DAYS):
        return FieldError("InvalidValue", "expires_at", "from tomorrow to five years ahead")
    return chosen


async def mint(request: Request) -> Response:
    """`POST /_emulator/long-lived-tokens {user_id, expires_at | days, client_id?, account_id?}`."""
    emulator = _emulator(request)
    ok, data = await read_json(request)
    if not ok or not isinstance(data, dict):
        return problem(400, "A JSON object is expected")
    state = emulator.state
    user_id = data.get("user_id")
    if not isinstance(user_id, int) or user_id not in state.users:
        return problem(404, "No such user")
    account_id = data.get("account_id", emulator.default_account_id)
    account = state.accounts.get(account_id) if isinstance(account_id, int) else None
    member = state.membership(user_id, account.id) if account is not None else None
    if account is None or member is None or not member.is_active:
        return problem(404, "The user is not in this account")
    # The «Ключи» tab is an admin's screen: nobody else can generate a token there.
    if member.role != "admin":
        return problem(403, "Only an account administrator can generate a long-lived token")
    client_id = data.get("client_id") or next(iter(state.integrations), None)
    if not isinstance(client_id, str) or client_id not in state.integrations:
        return problem(404, "No such integration")
    today = datetime.fromtimestamp(emulator.clock.now(), UTC).date()
    chosen = _expiry_day(data, today)
    if isinstance(chosen, FieldError):
        return validation_errors({0: [chosen]})
    expires_at = midnight_utc(chosen)
    token, jti = emulator.tokens.issue_access(client_id, account, user_id, expires_at)
    emulator.changed()
    return plain_json({"token": token, "jti": jti, "expires_at": expires_at}, status=201)


async def revoke(request: Request) -> Response:
    """`DELETE /_emulator/long-lived-tokens/{jti}`: withdrawn in «Выданные доступы»."""
    emulator = _emulator(request)
    if not emulator.tokens.revoke_access(request.path_params["jti"]):
        return problem(404, "No such live token")
    emulator.changed()
    return plain_json({"revoked": 1})


CONTROL_ROUTES = [
    Route("/_emulator/long-lived-tokens", mint, methods=["POST"]),
    Route("/_emulator/long-lived-tokens/{jti}", revoke, methods=["DELETE"]),
]
