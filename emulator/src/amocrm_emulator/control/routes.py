"""`/_emulator/…`: integrations, request log, faults, clock, switches, tokens, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from amocrm_emulator.config import REFRESH_REUSE_MODES, IntegrationSpec
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
    return plain_json({"now": emulator.clock.now(), "offset": emulator.clock.offset})


async def settings(request: Request) -> Response:
    emulator = _emulator(request)
    switches = emulator.switches
    if request.method == "POST":
        data = await _json_object(request)
        if isinstance(data, Response):
            return data
        errors: list[FieldError] = []
        if "refresh_reuse" in data and data["refresh_reuse"] not in REFRESH_REUSE_MODES:
            errors.append(FieldError("NotSupportedChoice", "refresh_reuse", "strict or grace"))
        for key in ("revoke_old_access_on_refresh", "users_self_read"):
            if key in data and not isinstance(data[key], bool):
                errors.append(FieldError("InvalidType", key, "a boolean"))
        for key in ("rate_limit", "block_window", "block_seconds"):
            if key in data and (
                not isinstance(data[key], (int, float))
                or isinstance(data[key], bool)
                or data[key] < 0
            ):
                errors.append(FieldError("InvalidType", key, "a non-negative number"))
        if "block_after" in data and (
            not isinstance(data["block_after"], int)
            or isinstance(data["block_after"], bool)
            or data["block_after"] < 0
        ):
            errors.append(FieldError("InvalidType", "block_after", "a non-negative integer"))
        unknown = set(data) - {
            "refresh_reuse",
            "revoke_old_access_on_refresh",
            "rate_limit",
            "block_after",
            "block_window",
            "block_seconds",
            "users_self_read",
        }
        errors.extend(FieldError("NotSupportedChoice", key, "unknown setting") for key in unknown)
        if errors:
            return validation_errors({0: errors})
        if "refresh_reuse" in data:
            switches.refresh_reuse = data["refresh_reuse"]
        if "revoke_old_access_on_refresh" in data:
            switches.revoke_old_access_on_refresh = data["revoke_old_access_on_refresh"]
        if "users_self_read" in data:
            switches.users_self_read = data["users_self_read"]
        if "rate_limit" in data:
            switches.rate_limit = float(data["rate_limit"] or 0)
            emulator.limiter.reset()
        if "block_after" in data:
            switches.block_after = data["block_after"]
        if "block_window" in data:
            switches.block_window = float(data["block_window"])
        if "block_seconds" in data:
            switches.block_seconds = float(data["block_seconds"])
    return plain_json(
        {
            "refresh_reuse": switches.refresh_reuse,
            "revoke_old_access_on_refresh": switches.revoke_old_access_on_refresh,
            "rate_limit": switches.rate_limit,
            "block_after": switches.block_after,
            "block_window": switches.block_window,
            "block_seconds": switches.block_seconds,
            "users_self_read": switches.users_self_read,
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
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/signing-key", signing_key, methods=["GET"]),
]
