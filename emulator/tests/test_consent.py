"""The consent page, driven over HTTP the way a browser submits its forms."""

from __future__ import annotations

import httpx
import pytest
from amocrm_emulator.testing import EmulatorError, RunningEmulator, consent
from emu_support import authorize_url, query_of

from scripts.harness_constants import CLIENT_ID, REDIRECT_URI


def test_allow_redirects_to_registered_uri_with_code_state_referer_platform(
    emu: RunningEmulator,
) -> None:
    location = consent(authorize_url(state="s-1"), "broker1@reforyou.example", "broker1-pass")
    assert location.startswith(REDIRECT_URI + "?")
    params = query_of(location)
    assert params["code"].startswith("def50200")
    assert params["state"] == "s-1"
    assert params["referer"] == "reforyou.amocrm.ru"
    assert params["platform"] == "1"
    assert params["client_id"] == CLIENT_ID


def test_deny_redirects_with_access_denied(emu: RunningEmulator) -> None:
    location = consent(
        authorize_url(state="s-2"), "broker2@reforyou.example", "broker2-pass", decision="deny"
    )
    params = query_of(location)
    assert params == {"error": "access_denied", "state": "s-2", "client_id": CLIENT_ID}


def test_step_by_step_forms_like_a_browser(emu: RunningEmulator, client: httpx.Client) -> None:
    url = authorize_url(state="abc")
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<form method="post">' in page.text
    assert 'name="login"' in page.text
    assert 'name="password"' in page.text
    assert "Войти" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]

    wrong = client.post(
        url, data={"csrf_token": csrf, "login": "broker1@reforyou.example", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert "Неверный логин или пароль" in wrong.text

    signed_in = client.post(
        url,
        data={"csrf_token": csrf, "login": "broker1@reforyou.example", "password": "broker1-pass"},
    )
    assert signed_in.status_code == 200
    assert 'name="decision" value="allow"' in signed_in.text
    assert "Разрешить" in signed_in.text
    assert "Отказать" in signed_in.text
    new_csrf = signed_in.text.split('name="csrf_token" value="')[1].split('"')[0]

    # The browser keeps the session cookie: a new visit goes straight to the decision.
    again = client.get(url)
    assert "Разрешить" in again.text
    assert 'name="password"' not in again.text

    allowed = client.post(url, data={"csrf_token": new_csrf, "decision": "allow"})
    assert allowed.status_code == 302
    assert query_of(allowed.headers["location"])["state"] == "abc"


def test_form_without_the_session_csrf_token_is_refused(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    url = authorize_url()
    client.get(url)
    forged = client.post(
        url,
        data={
            "csrf_token": "forged",
            "login": "broker1@reforyou.example",
            "password": "broker1-pass",
        },
    )
    assert forged.status_code == 403


def test_unknown_client_id_gets_an_html_error_page(client: httpx.Client) -> None:
    page = client.get(authorize_url(client_id="no-such-integration"))
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    missing = client.get("https://www.amocrm.ru/oauth")
    assert missing.status_code == 400


def test_extra_query_parameters_are_ignored(emu: RunningEmulator) -> None:
    extra = (
        "&response_type=code&approval_prompt=auto&scope="
        "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
    )
    location = consent(authorize_url(extra=extra), "broker3@reforyou.example", "broker3-pass")
    assert location.startswith(REDIRECT_URI + "?")


def test_trailing_slash_consent_path_works_as_the_php_library_sends_it(
    emu: RunningEmulator,
) -> None:
    url = f"https://www.amocrm.ru/oauth/?client_id={CLIENT_ID}&state=x&mode=popup"
    location = consent(url, "broker4@reforyou.example", "broker4-pass")
    assert query_of(location)["state"] == "x"


def test_user_of_two_accounts_chooses_the_account(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    url = authorize_url()
    page = client.get(url)
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    choice = client.post(
        url, data={"csrf_token": csrf, "login": "admin@reforyou.example", "password": "admin-pass"}
    )
    assert '<select id="account" name="account">' in choice.text
    assert "reforyoudev.amocrm.ru" in choice.text
    location = consent(url, "admin@reforyou.example", "admin-pass", account="reforyoudev")
    assert query_of(location)["referer"] == "reforyoudev.amocrm.ru"
    default = consent(url, "admin@reforyou.example", "admin-pass")
    assert query_of(default)["referer"] == "reforyou.amocrm.ru"


def test_kommo_consent_gives_platform_2(emu: RunningEmulator) -> None:
    location = consent(
        authorize_url(consent_host="www.kommo.com"), "agent1@foryouglobal.example", "agent1-pass"
    )
    params = query_of(location)
    assert params["referer"] == "foryouglobal.kommo.com"
    assert params["platform"] == "2"


def test_amocrm_user_cannot_sign_in_on_kommo(emu: RunningEmulator) -> None:
    with pytest.raises(EmulatorError, match="401"):
        consent(
            authorize_url(consent_host="www.kommo.com"), "broker1@reforyou.example", "broker1-pass"
        )


def test_loopback_host_serves_the_consent_page(emu: RunningEmulator) -> None:
    url = f"{emu.base_url}/oauth?client_id={CLIENT_ID}&state=loop&mode=post_message"
    location = consent(url, "broker5@reforyou.example", "broker5-pass")
    assert query_of(location)["state"] == "loop"


def test_malformed_consent_posts_do_not_break_it(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    url = authorize_url()
    client.get(url)
    for content_type, body in (
        ("multipart/form-data; boundary=x", b"--x\r\ngarbage"),
        ("application/x-www-form-urlencoded", b"%%%&&&==="),
        ("application/json", b"{"),
    ):
        answer = client.post(url, content=body, headers={"content-type": content_type})
        assert answer.status_code in (400, 403)
    assert client.get(url).status_code == 200
