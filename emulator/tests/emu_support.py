"""Shared helpers of the emulator tests: the authorize URL and raw token-endpoint calls.

Tokens for a seeded user come from `emu.token_for(login)` (consent + code exchange); the
helpers here send the token endpoint exactly what a test wants to probe.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from scripts.harness_constants import ACCOUNT_HOST, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


def authorize_url(
    state: str = "state-123",
    consent_host: str = "www.amocrm.ru",
    client_id: str = CLIENT_ID,
    extra: str = "",
) -> str:
    url = f"https://{consent_host}/oauth?client_id={client_id}&state={state}&mode=post_message"
    return url + extra


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(
    client: httpx.Client, code: str, host: str = ACCOUNT_HOST, **overrides: Any
) -> httpx.Response:
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        **overrides,
    }
    return client.post(f"https://{host}/oauth2/access_token", json=body)


def refresh(
    client: httpx.Client, refresh_token: str, host: str = ACCOUNT_HOST, **overrides: Any
) -> httpx.Response:
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "redirect_uri": REDIRECT_URI,
        **overrides,
    }
    return client.post(f"https://{host}/oauth2/access_token", json=body)


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
