"""`POST /oauth2/access_token` and `GET /oauth2/account/current/subdomain`."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.core import Emulator
from amocrm_emulator.hosts import HostKind
from amocrm_emulator.http import context, invalid_client, oauth_error, plain_json, problem
from amocrm_emulator.oauth.tokens import OAuthFailure

MAX_BODY_BYTES = 64 * 1024
GRANT_TYPES = ("authorization_code", "refresh_token")


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


async def _token_params(request: Request) -> dict[str, str] | None:
    """The body as flat text parameters, from JSON or a form; `None` when unreadable."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return None
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or (not content_type and body[:1] == b"{"):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        return {
            str(k): v if isinstance(v, str) else str(v)
            for k, v in data.items()
            if v is not None and not isinstance(v, (dict, list))
        }
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        try:
            form = await request.form(max_files=0, max_fields=50)
        except Exception:
            return None
        return {k: v for k, v in form.items() if isinstance(v, str)}
    return None


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """HTTP Basic client credentials, accepted as League's server accepts them."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" not in decoded:
        return None
    client_id, secret = decoded.split(":", 1)
    return unquote(client_id), unquote(secret)


async def access_token(request: Request) -> Response:
    emulator = _emulator(request)
    ctx = context(request)
    target = ctx.target
    if target.kind is HostKind.CONSENT or target.account is None:
        # amoCRM answers this on www.amocrm.ru: tokens come from the account's own host.
        return oauth_error(400, "Send request to account")
    params = await _token_params(request)
    if params is None:
        return oauth_error(400, "The request body is not valid JSON or form data")
    grant_type = params.get("grant_type")
    # The log names known grants; anything else sent as a grant type is logged as
    # "unsupported" rather than echoing arbitrary client input.
    if grant_type:
        ctx.grant_type = grant_type if grant_type in GRANT_TYPES else "unsupported"
    if not grant_type:
        return oauth_error(400, "Check the `grant_type` parameter")
    if grant_type not in GRANT_TYPES:
        return oauth_error(
            400,
            "Check that all required parameters have been provided",
            title="Некорректный запрос",
            detail="The authorization grant type is not supported by the authorization server.",
        )
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    basic = _basic_credentials(request)
    if basic is not None and not client_id:
        client_id, client_secret = basic
    elif basic is not None and not client_secret and basic[0] == client_id:
        client_secret = basic[1]
    account = target.account
    try:
        integration = emulator.tokens.authenticate_client(
            client_id, client_secret, params.get("redirect_uri")
        )
        if grant_type == "authorization_code":
            pair = emulator.tokens.exchange_code(
                integration, account, params.get("code"), params.get("redirect_uri")
            )
        else:
            pair = emulator.tokens.refresh(integration, account, params.get("refresh_token"))
    except OAuthFailure as failure:
        if failure.invalid_client:
            return invalid_client()
        return oauth_error(failure.status, failure.hint)
    finally:
        emulator.changed()
    record = emulator.state.access_tokens.get(pair.access_token)
    ctx.user_id = record.user_id if record else None
    return plain_json(pair.as_json(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def current_subdomain(request: Request) -> Response:
    """Which account a refresh token belongs to, asked on the api_domain host."""
    emulator = _emulator(request)
    token = request.headers.get("x-refresh-token", "").strip()
    account = emulator.tokens.account_for_refresh_token(token) if token else None
    if account is None:
        kommo = context(request).target.base_domain == "kommo.com"
        detail = "Invalid user name or password" if kommo else "Неверный логин или пароль"
        return problem(401, detail)
    body: dict[str, Any] = {
        "id": account.id,
        "subdomain": account.subdomain,
        "domain": account.host,
        "top_level_domain": account.base_domain.rsplit(".", 1)[-1],
    }
    return plain_json(body)
