"""Shared helpers of the emulator tests: the test integration and the connect flow."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from amocrm_emulator.testing import RunningEmulator, consent

CLIENT_ID = "2f4c7e1a-9b3d-4c8e-a1f2-3d4e5f6a7b8c"
CLIENT_SECRET = "emulator-test-secret-7Qm2"
REDIRECT_URI = "https://backend.example/api/v1/integrations/amo-crm/oauth/callback"
ACCOUNT_HOST = "reforyou.amocrm.ru"
ACCOUNT_ID = 31920194
ADMIN_ID = 581651
BROKER1_ID = 581652
BROKER9_ID = 581660  # responsible for no leads
GROUP_LEAD_ID = 581657  # sees the leads of the "Vladimir Team" group
KOMMO_HOST = "foryouglobal.kommo.com"
KOMMO_ACCOUNT_ID = 32045871
TOKEN_URL = f"https://{ACCOUNT_HOST}/oauth2/access_token"
API = f"https://{ACCOUNT_HOST}/api/v4"

PASSWORDS = {
    "admin@reforyou.example": "admin-pass",
    **{f"broker{i}@reforyou.example": f"broker{i}-pass" for i in range(1, 10)},
    "admin@foryouglobal.example": "kommo-admin-pass",
    "agent1@foryouglobal.example": "agent1-pass",
}


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


def get_code(
    emu: RunningEmulator,
    login: str = "broker1@reforyou.example",
    consent_host: str = "www.amocrm.ru",
    account: str | int | None = None,
) -> str:
    location = consent(
        authorize_url(consent_host=consent_host),
        login,
        PASSWORDS[login],
        account=account,
        emulator_url=emu.base_url,
    )
    return query_of(location)["code"]


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


def connect(
    emu: RunningEmulator,
    client: httpx.Client,
    login: str = "broker1@reforyou.example",
    host: str = ACCOUNT_HOST,
    consent_host: str = "www.amocrm.ru",
) -> dict[str, Any]:
    """Consent as `login` and exchange the code: the token answer."""
    response = exchange(client, get_code(emu, login, consent_host), host=host)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}
