"""`POST /oauth2/access_token`: grants, exact error bodies, lifetimes, rotation, switches."""

from __future__ import annotations

import base64

import httpx
import jwt
import pytest
from amocrm_emulator.testing import RunningEmulator
from emu_support import bearer, exchange, refresh

from scripts.harness_constants import (
    ACCOUNT_HOST,
    ACCOUNT_ID,
    AMO_API,
    BROKER1_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    KOMMO_ACCOUNT_ID,
    KOMMO_HOST,
    REDIRECT_URI,
    TOKEN_URL,
)

OAUTH_TYPE = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"


def assert_oauth_error(response: httpx.Response, status: int, hint: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] == OAUTH_TYPE
    if hint is None:
        assert "hint" not in body
    else:
        assert body["hint"] == hint
        assert body["title"] == "Некорректный запрос"


def test_code_exchange_gives_bearer_pair(emu: RunningEmulator, client: httpx.Client) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 86400
    assert tokens["refresh_token"].startswith("def50200")
    assert isinstance(tokens["server_time"], int)


def test_access_token_is_rs256_jwt_with_amocrm_claims(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "RS256"
    claims = jwt.decode(
        tokens["access_token"], emu.control.signing_key(), algorithms=["RS256"], audience=CLIENT_ID
    )
    assert claims["sub"] == str(BROKER1_ID)
    assert claims["account_id"] == ACCOUNT_ID
    assert claims["base_domain"] == "amocrm.ru"
    assert claims["api_domain"] == "api-b.amocrm.ru"
    assert claims["exp"] - claims["iat"] == 86400
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"] == header["jti"]
    assert "crm" in claims["scopes"]


def test_form_body_and_http_basic_client_auth_are_accepted(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    form = client.post(
        TOKEN_URL,
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": emu.code_for("broker1@reforyou.example"),
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert form.status_code == 200, form.text
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    with_basic = client.post(
        TOKEN_URL,
        headers={"Authorization": f"Basic {basic}"},
        data={
            "grant_type": "authorization_code",
            "code": emu.code_for("broker1@reforyou.example"),
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert with_basic.status_code == 200, with_basic.text


def test_code_is_single_use(emu: RunningEmulator, client: httpx.Client) -> None:
    code = emu.code_for("broker1@reforyou.example")
    assert exchange(client, code).status_code == 200
    assert_oauth_error(exchange(client, code), 400, "Authorization code has been revoked")


def test_code_expires_after_20_minutes(emu: RunningEmulator, client: httpx.Client) -> None:
    code = emu.code_for("broker1@reforyou.example")
    emu.control.advance_clock(20 * 60 + 1)
    assert_oauth_error(exchange(client, code), 400, "Authorization code has expired")


def test_code_still_valid_just_before_20_minutes(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    code = emu.code_for("broker1@reforyou.example")
    emu.control.advance_clock(19 * 60)
    assert exchange(client, code).status_code == 200


def test_garbage_code(emu: RunningEmulator, client: httpx.Client) -> None:
    assert_oauth_error(
        exchange(client, "def50200deadbeef"), 400, "Cannot decrypt the authorization code"
    )


def test_code_of_another_account_cannot_be_exchanged_here(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    code = emu.code_for("agent1@foryouglobal.example")
    assert_oauth_error(exchange(client, code), 400, "Cannot decrypt the authorization code")
    assert exchange(client, code, host=KOMMO_HOST).status_code == 200


@pytest.mark.parametrize(
    "redirect_uri",
    [
        REDIRECT_URI + "/",
        # The same address with the other scheme.
        REDIRECT_URI.replace("http://", "https://", 1),
        "https://evil.example/cb",
    ],
)
def test_redirect_uri_must_match_exactly(
    emu: RunningEmulator, client: httpx.Client, redirect_uri: str
) -> None:
    response = exchange(client, emu.code_for("broker1@reforyou.example"), redirect_uri=redirect_uri)
    assert_oauth_error(response, 401, None)
    assert response.json()["title"] == "Некорректный клиент"
    assert response.json()["detail"] == "Авторизация клиента не прошла"


def test_missing_redirect_uri(emu: RunningEmulator, client: httpx.Client) -> None:
    response = client.post(
        TOKEN_URL,
        json={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": emu.code_for("broker1@reforyou.example"),
        },
    )
    assert_oauth_error(response, 400, "Check the `redirect_uri` parameter")


def test_bad_client_secret_and_unknown_client(emu: RunningEmulator, client: httpx.Client) -> None:
    code = emu.code_for("broker1@reforyou.example")
    wrong_secret = exchange(client, code, client_secret="wrong")
    assert_oauth_error(wrong_secret, 401, None)
    assert wrong_secret.json()["title"] == "Некорректный клиент"
    assert_oauth_error(exchange(client, code, client_id="unknown-client"), 401, None)
    assert_oauth_error(exchange(client, code, client_id=""), 400, "Check the `client_id` parameter")
    # The failed attempts did not spend the code.
    assert exchange(client, code).status_code == 200


def test_unknown_and_missing_grant_types(emu: RunningEmulator, client: httpx.Client) -> None:
    emu.control.clear_requests()
    unknown = client.post(TOKEN_URL, json={"grant_type": "password", "client_id": CLIENT_ID})
    assert unknown.status_code == 400
    assert unknown.json()["hint"] == "Check that all required parameters have been provided"
    missing = client.post(TOKEN_URL, json={"client_id": CLIENT_ID})
    assert_oauth_error(missing, 400, "Check the `grant_type` parameter")
    logged = [r["grant_type"] for r in emu.control.requests(path="/oauth2/access_token")]
    assert logged == ["unsupported", None]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2, 3]"),
        ("application/json", b"\xff\xfe"),
        ("text/plain", b"grant_type=refresh_token"),
        ("application/x-www-form-urlencoded", b""),
        ("application/json", b"{" + b'"a":' * 10 + b"1}"),
        ("application/json", b"[" * 50_000),
    ],
)
def test_malformed_bodies_get_oauth_errors(
    client: httpx.Client, content_type: str, body: bytes
) -> None:
    response = client.post(TOKEN_URL, content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.json()["type"] == OAUTH_TYPE


def test_huge_body_is_refused(client: httpx.Client) -> None:
    response = client.post(
        TOKEN_URL, content=b"x" * 200_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


def test_token_request_on_www_host_must_go_to_the_account(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    response = exchange(client, emu.code_for("broker1@reforyou.example"), host="www.amocrm.ru")
    assert_oauth_error(response, 400, "Send request to account")


def test_refresh_rotates_and_old_refresh_token_is_revoked(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    first = emu.token_for("broker1@reforyou.example")
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert pair["access_token"] != first["access_token"]
    reused = refresh(client, first["refresh_token"])
    assert_oauth_error(reused, 401, "Token has been revoked")
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_old_access_token_dies_on_refresh_by_default(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    first = emu.token_for("broker1@reforyou.example")
    assert client.get(f"{AMO_API}/account", headers=bearer(first)).status_code == 200
    pair = refresh(client, first["refresh_token"]).json()
    assert client.get(f"{AMO_API}/account", headers=bearer(first)).status_code == 401
    assert client.get(f"{AMO_API}/account", headers=bearer(pair)).status_code == 200


def test_old_access_token_survives_when_switched_off(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    emu.control.settings(revoke_old_access_on_refresh=False)
    first = emu.token_for("broker1@reforyou.example")
    refresh(client, first["refresh_token"])
    assert client.get(f"{AMO_API}/account", headers=bearer(first)).status_code == 200


def test_grace_mode_old_refresh_works_until_new_one_is_used(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    emu.control.settings(refresh_reuse="grace")
    first = emu.token_for("broker1@reforyou.example")
    lost = refresh(client, first["refresh_token"]).json()  # the answer "got lost"
    retry = refresh(client, first["refresh_token"])
    assert retry.status_code == 200, retry.text
    kept = retry.json()
    # The pair whose answer was lost is replaced by the retry's pair.
    assert_oauth_error(refresh(client, lost["refresh_token"]), 401, "Token has been revoked")
    # Using the new refresh token ends the grace of the old one.
    newest = refresh(client, kept["refresh_token"])
    assert newest.status_code == 200
    assert_oauth_error(refresh(client, first["refresh_token"]), 401, "Token has been revoked")


def test_strict_mode_is_the_default_and_settings_report_it(emu: RunningEmulator) -> None:
    settings = emu.control.settings()
    assert settings["refresh_reuse"] == "strict"
    assert settings["revoke_old_access_on_refresh"] is True


def test_refresh_token_expires_after_90_days(emu: RunningEmulator, client: httpx.Client) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    emu.control.advance_clock(90 * 86400 + 60)
    assert_oauth_error(refresh(client, tokens["refresh_token"]), 401, "Token has expired")


def test_access_token_expires_after_24_hours(emu: RunningEmulator, client: httpx.Client) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    emu.control.advance_clock(86400 - 60)
    assert client.get(f"{AMO_API}/account", headers=bearer(tokens)).status_code == 200
    emu.control.advance_clock(120)
    assert client.get(f"{AMO_API}/account", headers=bearer(tokens)).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_garbage_refresh_token_and_foreign_client(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    assert_oauth_error(refresh(client, "def50200garbage"), 401, "Cannot decrypt the refresh token")
    tokens = emu.token_for("broker1@reforyou.example")
    emu.control.register_integration("other-client", "other-secret", REDIRECT_URI)
    foreign = refresh(
        client, tokens["refresh_token"], client_id="other-client", client_secret="other-secret"
    )
    assert_oauth_error(foreign, 401, "Token is not linked to client")


def test_expire_tokens_control_expires_access_only(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    assert emu.control.expire_tokens(BROKER1_ID)["expired"] == 1
    assert client.get(f"{AMO_API}/account", headers=bearer(tokens)).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_revoke_control_kills_every_token_of_the_user(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    other = emu.token_for("broker2@reforyou.example")
    emu.control.revoke(BROKER1_ID)
    assert client.get(f"{AMO_API}/account", headers=bearer(tokens)).status_code == 401
    assert_oauth_error(refresh(client, tokens["refresh_token"]), 401, "Token has been revoked")
    assert client.get(f"{AMO_API}/account", headers=bearer(other)).status_code == 200


def test_subdomain_lookup_on_api_domain(emu: RunningEmulator, client: httpx.Client) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    url = "https://api-b.amocrm.ru/oauth2/account/current/subdomain"
    found = client.get(url, headers={"X-Refresh-Token": tokens["refresh_token"]})
    assert found.status_code == 200
    assert found.json() == {
        "id": ACCOUNT_ID,
        "subdomain": "reforyou",
        "domain": ACCOUNT_HOST,
        "top_level_domain": "ru",
    }
    assert client.get(url, headers={"X-Refresh-Token": "garbage"}).status_code == 401
    assert client.get(url).status_code == 401


def test_kommo_tokens_carry_kommo_claims(emu: RunningEmulator, client: httpx.Client) -> None:
    tokens = emu.token_for("agent1@foryouglobal.example")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["base_domain"] == "kommo.com"
    assert claims["api_domain"] == "api-c.kommo.com"
    assert claims["account_id"] == KOMMO_ACCOUNT_ID
    unauthorized = client.get(
        f"https://{KOMMO_HOST}/api/v4/account", headers={"Authorization": "Bearer nope"}
    )
    assert unauthorized.json()["detail"] == "Invalid user name or password"


def test_token_of_one_account_is_refused_by_another(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    answer = client.get(f"https://{KOMMO_HOST}/api/v4/account", headers=bearer(tokens))
    assert answer.status_code == 401
