"""No access token, refresh token, code, state, completion ticket, client secret or password
in any response body or captured log line, across a full flow with refreshes, failures and a
disconnect; the ticket appears only in the callback's redirect back to the app."""

from __future__ import annotations

import html
from typing import Any

import httpx
from backend_support import Backend, amo_user, captured_logs, query_of
from foryou.integrations.amocrm.tokens import open_token

from scripts.harness_constants import AMO, API, CLIENT_SECRET, PASSWORD


async def test_no_secret_in_responses_or_logs(backend: Backend, emu: Any) -> None:
    user = amo_user(emu)
    bodies: list[str] = []
    secrets: set[str] = {CLIENT_SECRET, PASSWORD, user["password"]}

    def keep(response: httpx.Response, *, allow_jwt: bool = False) -> httpx.Response:
        text = response.text
        if allow_jwt:  # the login answer carries our own app token, by design
            text = text.replace(response.json()["data"]["accessToken"], "")
        bodies.append(text)
        if response.status_code == 302 and "/oauth/start" not in str(response.request.url):
            bodies.append(response.headers["location"])
        return response

    async def stored_tokens() -> None:
        async with backend.services.db.transaction() as session:
            from foryou.integrations.amocrm import repository

            connection = await repository.get_connection_for_user(session, user_id)
        if connection is not None and connection.token_key_id is not None:
            cipher = backend.services.connections._cipher
            secrets.add(open_token(cipher, connection, "access_token"))
            secrets.add(open_token(cipher, connection, "refresh_token"))

    with captured_logs() as logs:
        email, user_id = await backend.create_user()
        login = keep(
            await backend.client.post(
                f"{API}/auth/login", json={"email": email, "password": PASSWORD}
            ),
            allow_jwt=True,
        )
        headers = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}
        # A failed login and a denied consent on the way.
        keep(
            await backend.client.post(
                f"{API}/auth/login", json={"email": email, "password": PASSWORD + "x"}
            )
        )
        consent_url, binder = await backend.start(await backend.authorize(headers))
        denied = emu.consent(consent_url, user["login"], user["password"], decision="deny")
        secrets.add(query_of(denied)["state"])
        keep((await backend.callback(denied, binder))[0])

        # The real connection, with a replay of its callback.
        consent_url, binder = await backend.start(await backend.authorize(headers))
        location = emu.consent(consent_url, user["login"], user["password"])
        secrets.update({query_of(location)["code"], query_of(location)["state"], binder})
        pending, back = await backend.callback(location, binder)
        ticket = back["ticket"]
        secrets.add(ticket)
        # The redirect back to the app (and its page's button) is the ticket's only carrier.
        assert ticket in pending.headers["location"]
        bodies.append(pending.text.replace(html.escape(pending.headers["location"]), ""))
        keep((await backend.callback(location, binder))[0])
        keep(await backend.complete(headers, ticket))
        keep(await backend.complete(headers, ticket))
        await stored_tokens()
        keep(await backend.client.get(f"{AMO}/status", headers=headers))
        keep(await backend.client.get(f"{API}/crm/leads", headers=headers))

        # A refresh forced by a 401, then one near expiry, then one that fails.
        emu.control.expire_tokens(user["id"])
        keep(await backend.client.get(f"{API}/crm/pipelines", headers=headers))
        await stored_tokens()
        backend.clock.advance(86400 - 300)
        keep(await backend.client.get(f"{API}/crm/pipelines", headers=headers))
        await stored_tokens()
        backend.clock.advance(86400)
        emu.control.fault("/oauth2/access_token", method="POST", status=500)
        keep(await backend.client.get(f"{API}/crm/pipelines", headers=headers))
        emu.control.clear_faults()

        # exchange-code with a bad body and with a replayed code.
        keep(
            await backend.client.post(
                f"{AMO}/exchange-code",
                headers=headers,
                json={**query_of(location), "extra": "x"},
            )
        )
        keep(await backend.client.post(f"{AMO}/disconnect", headers=headers))
        keep(await backend.client.get(f"{AMO}/status", headers=headers))

    log_text = logs.getvalue()
    assert log_text.count("\n") > 10, "the flow should have logged"
    for event in ("amocrm_connected", "amocrm_token_refreshed", "amocrm_refresh_failed"):
        assert event in log_text
    assert len(secrets) >= 10
    for secret in secrets:
        assert secret not in log_text, f"secret in logs: {secret[:6]}…"
        for body in bodies:
            assert secret not in body, f"secret in a response: {secret[:6]}…"


async def test_no_token_in_admin_responses_or_logs(backend: Backend, emu: Any) -> None:
    """The agency's long-lived token and brokers' tokens never leave the backend: not in
    any admin answer (accepted, refused, shown, listed), not in a log line."""
    from foryou.auth.models import Role

    admin_email, _ = await backend.create_user(role=Role.ADMIN)
    admin = await backend.login(admin_email)
    minted = emu.control.long_lived_token(amo_user(emu, "admin")["id"], days=30)
    broker_token = emu.token_for(amo_user(emu)["login"])["access_token"]
    agency = f"{API}/admin/amo-crm/agency-connection"
    bodies: list[str] = []
    with captured_logs() as logs:
        for token in (broker_token, minted.token):
            answer = await backend.client.post(
                agency, headers=admin, json={"domain": "reforyou.amocrm.ru", "token": token}
            )
            bodies.append(answer.text)
        for path in ("/amo-crm/agency-connection", "/brokers", "/users"):
            bodies.append((await backend.client.get(f"{API}/admin{path}", headers=admin)).text)
    assert '"health":"active"' in bodies[1]
    for secret in (minted.token, broker_token):
        for piece in (secret, secret[:40], secret[-40:]):
            assert piece not in logs.getvalue()
            for body in bodies:
                assert piece not in body
