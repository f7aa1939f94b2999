"""`/_emulator/…`: integrations, request log, faults, clock, switches, tokens, reset."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from amocrm_emulator.config import REFRESH_REUSE_MODES, RIGHTS_REFUSALS, IntegrationSpec
from amocrm_emulator.control.actas import act_as, webhook_deliveries
from amocrm_emulator.core import Emulator
from amocrm_emulator.faults import parse_fault
from amocrm_emulator.hook import send_disable_hook
from amocrm_emulator.http import FieldError, plain_json, problem, read_json, validation_errors
from amocrm_emulator.oauth.tokens import TokenService
from amocrm_emulator.state.seed import seeded_logins


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


async def _json_object(request: Request) -> dict[str, Any] | Response:
    ok, data = await read_json(request)
    if not ok or not isinstance(data, dict):
        return problem(400, "A JSON object is expected")
    return data


async def health(request: Request) -> Response:
    return plain_json({"status": "ok"})


async def users(request: Request) -> Response:
    return plain_json({"users": seeded_logins(_emulator(request).state)})


async def integrations(request: Request) -> Response:
    emulator = _emulator(request)
    if request.method == "GET":
        return plain_json(
            {
                "integrations": [
                    {
                        "client_id": i.client_id,
                        "redirect_uri": i.redirect_uri,
                        "disable_hook_url": i.disable_hook_url,
                        "name": i.name,
                    }
                    for i in emulator.state.integrations.values()
                ]
            }
        )
    data = await _json_object(request)
    if isinstance(data, Response):
        return data
    errors = [
        FieldError("InvalidType", key, f"{key} must be a non-empty string")
        for key in ("client_id", "client_secret", "redirect_uri")
        if not isinstance(data.get(key), str) or not data[key].strip()
    ]
    hook = data.get("disable_hook_url")
    if hook is not None and not isinstance(hook, str):
        errors.append(FieldError("InvalidType", "disable_hook_url", "a string or null"))
    name = data.get("name", "ForYou CRM Connect")
    if not isinstance(name, str):
        errors.append(FieldError("InvalidType", "name", "a string"))
    if errors:
        return validation_errors({0: errors})
    integration = emulator.register_integration(
        IntegrationSpec(
            client_id=data["client_id"],
            client_secret=data["client_secret"],
            redirect_uri=data["redirect_uri"],
            disable_hook_url=hook or None,
            name=name,
        )
    )
    return plain_json(
        {"client_id": integration.client_id, "redirect_uri": integration.redirect_uri}, status=201
    )


async def requests_log(request: Request) -> Response:
    emulator = _emulator(request)
    if request.method == "DELETE":
        emulator.requests.clear()
        return plain_json({"status": "cleared"})
    params = request.query_params
    since_raw = params.get("since")
    since = int(since_raw) if since_raw and since_raw.isdigit() else None
    return plain_json(
        {
            "requests": emulator.requests.query(
                path=params.get("path"),
                method=params.get("method"),
                host=params.get("host"),
                grant_type=params.get("grant_type"),
                since=since,
            )
        }
    )


async def faults(request: Request) -> Response:
    emulator = _emulator(request)
    if request.method == "DELETE":
        emulator.faults.clear()
        return plain_json({"status": "cleared"})
    if request.method == "GET":
        return plain_json({"faults": [r.as_json() for r in emulator.faults.rules]})
    data = await _json_object(request)
    if isinstance(data, Response):
        return data
    rule, errors = parse_fault(data)
    if rule is None:
        return validation_errors({0: errors})
    emulator.faults.add(rule)
    return plain_json(rule.as_json(), status=201)


async def clock(request: Request) -> Response:
    emulator = _emulator(request)
    if request.method == "POST":
        data = await _json_object(request)
        if isinstance(data, Response):
            return data
        advance, offset = data.get("advance"), data.get("offset")
        valid = [
            v for v in (advance, offset) if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
        if len(valid) != 1:
            return validation_errors(
                {
                    0: [
                        FieldError(
                            "InvalidValue", "", "give exactly one of advance or offset, in seconds"
                        )
                    ]
                }
            )
        if advance is not None:
            emulator.clock.advance(float(valid[0]))
        else:
            emulator.clock.set_offset(float(valid[0]))
        emulator.webhooks.clock_moved()
    return plain_json({"now": emulator.clock.now(), "offset": emulator.clock.offset})


def _choice(options: tuple[str, ...]) -> Callable[[Any], Any]:
    return lambda value: value if value in options else None


def _boolean(value: Any) -> Any:
    return value if isinstance(value, bool) else None


def _seconds(value: Any) -> Any:
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    return float(value) if number else None


def _count(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _delays(value: Any) -> Any:
    if not isinstance(value, list):
        return None
    delays = [_seconds(v) for v in value]
    return tuple(delays) if None not in delays else None


# Each switch with its reader: the value to store, or None when the value is invalid.
SWITCH_READERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "refresh_reuse": (_choice(REFRESH_REUSE_MODES), "strict or grace"),
    "revoke_old_access_on_refresh": (_boolean, "a boolean"),
    "users_self_read": (_boolean, "a boolean"),
    "rate_limit": (_seconds, "a non-negative number"),
    "block_after": (_count, "a non-negative integer"),
    "block_window": (_seconds, "a non-negative number"),
    "block_seconds": (_seconds, "a non-negative number"),
    "rights_refusal": (_choice(RIGHTS_REFUSALS), '"400" or "403"'),
    "task_complete_till_filter": (_boolean, "a boolean"),
    "webhook_timeout": (_seconds, "a non-negative number"),
    "webhook_retry_delays": (_delays, "a list of non-negative numbers of seconds"),
    "webhook_disable_after": (_count, "a non-negative integer"),
    "webhook_disable_window": (_seconds, "a non-negative number"),
}


async def settings(request: Request) -> Response:
    emulator = _emulator(request)
    switches = emulator.switches
    if request.method == "POST":
        data = await _json_object(request)
        if isinstance(data, Response):
            return data
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        for key, raw in data.items():
            reader = SWITCH_READERS.get(key)
            if reader is None:
                errors.append(FieldError("NotSupportedChoice", key, "unknown setting"))
                continue
            read, expected = reader
            value = read(raw)
            if value is None:
                errors.append(FieldError("InvalidType", key, expected))
            values[key] = value
        if errors:
            return validation_errors({0: errors})
        for key, value in values.items():
            setattr(switches, key, value)
        if "rate_limit" in values:
            emulator.limiter.reset()
    return plain_json(
        {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(switches).items()
        }
    )


def _user_id(request: Request) -> int | None:
    raw = request.path_params["user_id"]
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _change_user_tokens(
    request: Request, answer_key: str, change: Callable[[TokenService, int], int]
) -> Response:
    """Apply `change` to the tokens of the user in the path; answer how many it touched."""
    emulator = _emulator(request)
    user_id = _user_id(request)
    if user_id is None or user_id not in emulator.state.users:
        return problem(404, "No such user")
    count = change(emulator.tokens, user_id)
    emulator.changed()
    return plain_json({answer_key: count})


async def expire_tokens(request: Request) -> Response:
    return _change_user_tokens(request, "expired", TokenService.expire_user_access)


async def revoke(request: Request) -> Response:
    return _change_user_tokens(request, "revoked", TokenService.revoke_user)


async def disable_hook(request: Request) -> Response:
    emulator = _emulator(request)
    data = await _json_object(request)
    if isinstance(data, Response):
        return data
    client_id, account_id = data.get("client_id"), data.get("account_id")
    integration = emulator.state.integrations.get(client_id) if isinstance(client_id, str) else None
    if integration is None:
        return problem(404, "No such integration")
    if not isinstance(account_id, int) or account_id not in emulator.state.accounts:
        return problem(404, "No such account")
    if not integration.disable_hook_url:
        return problem(409, "The integration has no disable hook URL")
    # Switching an integration off revokes its tokens in that account (amoCRM docs).
    if data.get("revoke_tokens", True) is not False:
        emulator.tokens.revoke_integration(integration.client_id, account_id)
        emulator.changed()
    import httpx

    try:
        status = await send_disable_hook(
            integration.disable_hook_url,
            integration.client_id,
            integration.client_secret,
            account_id,
        )
    except httpx.HTTPError as exc:
        return plain_json({"status": None, "error": type(exc).__name__})
    return plain_json({"status": status})


async def reset(request: Request) -> Response:
    _emulator(request).reset()
    return plain_json({"status": "reset"})


async def signing_key(request: Request) -> Response:
    """The public key of access-token signatures (amoCRM publishes none; tests may verify)."""
    return Response(_emulator(request).tokens.public_key_pem(), media_type="application/x-pem-file")


ROUTES = [
    Route("/_emulator/health", health, methods=["GET"]),
    Route("/_emulator/users", users, methods=["GET"]),
    Route("/_emulator/integrations", integrations, methods=["GET", "POST"]),
    Route("/_emulator/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_emulator/clock", clock, methods=["GET", "POST"]),
    Route("/_emulator/settings", settings, methods=["GET", "POST"]),
    Route("/_emulator/users/{user_id}/expire-tokens", expire_tokens, methods=["POST"]),
    Route("/_emulator/users/{user_id}/revoke", revoke, methods=["POST"]),
    Route("/_emulator/disable-hook", disable_hook, methods=["POST"]),
    Route("/_emulator/act-as/{user_id}", act_as, methods=["POST"]),
    Route("/_emulator/webhook-deliveries", webhook_deliveries, methods=["GET", "DELETE"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/signing-key", signing_key, methods=["GET"]),
]
