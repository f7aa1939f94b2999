"""The server-callback connect flow and its protections (DESIGN §2, checklist O1–O11)."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from backend_support import Backend, Canary, amo_user, connect, query_of, token_grants
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmConnectionEvent
from sqlalchemy import select

from scripts.harness_constants import AMO


def with_query(location: str, **changes: str | None) -> str:
    parts = urlsplit(location)
    query = query_of(location)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


async def consent_location(
    backend: Backend, emu: Any, headers: dict[str, str], decision: str = "allow"
) -> tuple[str, str]:
    """Authorize, start and consent; returns amoCRM's redirect to us and the binder cookie."""
    consent_url, binder = await backend.start(await backend.authorize(headers))
    # A backend aimed at the canary still needs the real consent page.
    consent_url = emu.base_url + consent_url[consent_url.index("/oauth?") :]
    user = amo_user(emu)
    return emu.consent(consent_url, user["login"], user["password"], decision=decision), binder


async def connection_rows(backend: Backend) -> list[AmoCrmConnection]:
    async with backend.services.db.transaction() as session:
        return list((await session.execute(select(AmoCrmConnection))).scalars())


class TestFirstConnection:
    async def test_first_connection_stores_encrypted_tokens_and_an_event(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, headers, user)

        [row] = await connection_rows(backend)
        assert row.status == "active"
        assert row.account_domain == "reforyou.amocrm.ru"
        assert row.amo_user_id == user["id"]
        assert row.token_key_id == "k1"
        token = await backend.services.tokens.usable_token(row.user_id)
        assert token.access_token.startswith("eyJ")
        assert token.access_token not in (row.access_token_enc or "")
        assert len(token_grants(emu, "authorization_code")) == 1
        async with backend.services.db.transaction() as session:
            kinds = [
                e.kind for e in (await session.execute(select(AmoCrmConnectionEvent))).scalars()
            ]
        assert kinds == ["connected"]

    async def test_reconnect_replaces_tokens_in_place(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        await connect(backend, emu, headers, amo_user(emu))
        [first] = await connection_rows(backend)
        await connect(backend, emu, headers, amo_user(emu))
        [second] = await connection_rows(backend)
        assert second.id == first.id
        assert second.version == first.version + 1
        assert second.access_token_enc != first.access_token_enc


class TestCallbackHandling:
    async def test_callback_answers_302_and_an_escaped_no_store_page(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        response, back = await backend.callback(location, binder)
        assert back["status"] == "pending"
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", back["ticket"])
        assert response.headers["location"] == (
            f"foryouapp://amo-crm/callback?status=pending&ticket={back['ticket']}"
        )
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-type"].startswith("text/html")
        assert "Return to the app" in response.text
        assert "<script" not in response.text
        assert query_of(location)["code"] not in response.text
        # The binder is single-use: the callback clears it.
        assert 'foryou_amo_flow=""' in response.headers["set-cookie"]

    async def test_web_client_returns_to_the_configured_web_url(
        self, backend: Backend, emu: Any
    ) -> None:
        headers = await backend.new_broker()
        consent_url, binder = await backend.start(await backend.authorize(headers, "web"))
        user = amo_user(emu)
        location = emu.consent(consent_url, user["login"], user["password"])
        response, back = await backend.callback(location, binder)
        assert response.headers["location"] == (
            f"http://127.0.0.1:8081/amo-crm/callback?status=pending&ticket={back['ticket']}"
        )
        assert (await backend.finish(headers, back))["state"] == "connected"

    async def test_web_client_without_web_url_is_refused(self, make_backend: Any) -> None:
        backend = await make_backend(web_return_url=None)
        headers = await backend.new_broker()
        response = await backend.client.post(
            f"{AMO}/authorize", headers=headers, json={"client": "web"}
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "return_target_unavailable"

    async def test_authorize_is_capped_per_user_per_minute(self, make_backend: Any) -> None:
        backend = await make_backend(oauth_flows_per_minute=3)
        headers = await backend.new_broker()
        other = await backend.new_broker()
        for _ in range(3):
            await backend.authorize(headers)

        refused = await backend.client.post(f"{AMO}/authorize", headers=headers, json={})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert refused.headers["retry-after"] == "60"
        # The cap is per user, and a minute later the same user may start again.
        await backend.authorize(other)
        backend.clock.advance(61)
        await backend.authorize(headers)

    async def test_start_link_works_once(self, backend: Backend) -> None:
        headers = await backend.new_broker()
        authorize_url = await backend.authorize(headers)
        await backend.start(authorize_url)
        parts = urlsplit(authorize_url)
        again = await backend.client.get(f"{parts.path}?{parts.query}")
        assert again.status_code == 302
        assert query_of(again.headers["location"]) == {
            "status": "error",
            "code": "amo_state_invalid",
        }

    async def test_start_ignores_a_next_parameter(self, backend: Backend) -> None:
        headers = await backend.new_broker()
        parts = urlsplit(await backend.authorize(headers))
        response = await backend.client.get(f"{parts.path}?{parts.query}&next=https://evil.com")
        assert response.status_code == 200
        assert "evil.com" not in response.text


class TestRefusals:
    async def test_user_denies_consent(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers, decision="deny")
        assert query_of(location)["error"] == "access_denied"
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_access_denied"}
        assert (await backend.status(headers))["state"] == "not_connected"
        assert token_grants(emu, "authorization_code") == []
        assert await connection_rows(backend) == []

    async def test_expired_state(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        backend.clock.advance(601)
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_state_expired"}
        assert token_grants(emu, "authorization_code") == []
        backend.clock.advance(-601)
        _, again = await backend.callback(location, binder)
        assert again == {"status": "error", "code": "amo_state_invalid"}
        assert await connection_rows(backend) == []

    async def test_replayed_state(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        _, first = await backend.callback(location, binder)
        assert first["status"] == "pending"
        forged = with_query(location, code="def50200" + "ab" * 40)
        _, second = await backend.callback(forged, binder)
        assert second == {"status": "error", "code": "amo_state_invalid"}
        assert len(token_grants(emu, "authorization_code")) == 1

    async def test_same_callback_delivered_twice(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        results = await asyncio.gather(
            backend.callback(location, binder), backend.callback(location, binder)
        )
        outcomes = sorted(back["status"] for _, back in results)
        assert outcomes == ["error", "pending"]
        assert len(token_grants(emu, "authorization_code")) == 1
        [pending] = [back for _, back in results if back["status"] == "pending"]
        await backend.finish(headers, pending)
        assert (await backend.status(headers))["state"] == "connected"

    async def test_code_redeemed_twice(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        first_location, first_binder = await consent_location(backend, emu, headers)
        _, first = await backend.callback(first_location, first_binder)
        await backend.finish(headers, first)
        [before] = await connection_rows(backend)
        # A fresh flow (new state) carrying the code amoCRM already redeemed.
        second_location, second_binder = await consent_location(backend, emu, headers)
        replay = with_query(second_location, code=query_of(first_location)["code"])
        _, back = await backend.callback(replay, second_binder)
        assert back == {"status": "error", "code": "amo_code_invalid"}
        [after] = await connection_rows(backend)
        assert after.version == before.version
        assert after.access_token_enc == before.access_token_enc
        _, dead = await backend.callback(second_location, second_binder)
        assert dead == {"status": "error", "code": "amo_state_invalid"}

    async def test_callback_without_binder_cookie(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        location, _ = await consent_location(backend, emu, headers)
        _, back = await backend.callback(location, None)
        assert back == {"status": "error", "code": "amo_binder_mismatch"}
        assert token_grants(emu, "authorization_code") == []
        assert await connection_rows(backend) == []

    async def test_callback_with_another_browsers_binder(self, backend: Backend, emu: Any) -> None:
        victim = await backend.new_broker()
        attacker = await backend.new_broker()
        location, _ = await consent_location(backend, emu, attacker)
        _, victim_binder = await backend.start(await backend.authorize(victim))
        _, back = await backend.callback(location, victim_binder)
        assert back == {"status": "error", "code": "amo_binder_mismatch"}
        assert token_grants(emu, "authorization_code") == []

    @pytest.mark.parametrize(
        ("referer", "platform"),
        [
            ("evil.com", "1"),
            ("reforyou.amocrm.ru.evil.com", "1"),
            ("reforyou.amocrm.ru@evil.com", "1"),
            ("reforyou.amocrm.ru:8443", "1"),
            ("127.0.0.1", "1"),
            ("a.reforyou.amocrm.ru", "1"),
            ("REFORYOU.AMOCRM.RU", "1"),
            ("reforyou.amocrm.ru.", "1"),
            ("reforyou.amocrm.ru", "2"),
        ],
    )
    async def test_forged_referer_never_reaches_the_network(
        self, make_backend: Any, emu: Any, referer: str, platform: str
    ) -> None:
        with Canary() as canary:
            # Every amoCRM-bound request of this backend would land on the canary.
            backend = await make_backend(amocrm_upstream_url=canary.url)
            headers = await backend.new_broker()
            location, binder = await consent_location(backend, emu, headers)
            forged = with_query(location, referer=referer, platform=platform)
            _, back = await backend.callback(forged, binder)
        assert back == {"status": "error", "code": "amo_referer_invalid"}
        assert canary.requests == []
        assert token_grants(emu, "authorization_code") == []
        assert await connection_rows(backend) == []

    async def test_wrong_account_when_allowed_accounts_are_set(
        self, make_backend: Any, emu: Any
    ) -> None:
        backend = await make_backend(amocrm_allowed_accounts=["otheragency.amocrm.ru"])
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_account_not_allowed"}
        assert token_grants(emu, "authorization_code") == []
        assert await connection_rows(backend) == []

    async def test_wrong_account_by_id_is_refused_after_the_exchange(
        self, make_backend: Any, emu: Any
    ) -> None:
        backend = await make_backend(amocrm_allowed_accounts=["1"])
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_account_not_allowed"}
        assert await connection_rows(backend) == []

    async def test_allowed_account_connects(self, make_backend: Any, emu: Any) -> None:
        backend = await make_backend(amocrm_allowed_accounts=["reforyou.amocrm.ru"])
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        _, back = await backend.callback(location, binder)
        assert (await backend.finish(headers, back))["state"] == "connected"


class TestUpstreamFailures:
    @pytest.mark.parametrize(
        ("fault", "code", "http_status"),
        [
            ({"status": 503}, "amo_exchange_failed", 502),
            ({"status": 500}, "amo_exchange_failed", 502),
            ({"delay": 4.0}, "amo_upstream_timeout", 504),
        ],
    )
    async def test_amocrm_down_or_hanging_during_the_exchange(
        self,
        make_backend: Any,
        emu: Any,
        fault: dict[str, Any],
        code: str,
        http_status: int,
    ) -> None:
        backend = await make_backend(amocrm_timeout_seconds=1.0)
        headers = await backend.new_broker()
        # Browser callback.
        location, binder = await consent_location(backend, emu, headers)
        emu.control.fault("/oauth2/access_token", method="POST", **fault)
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": code}
        emu.control.clear_faults()
        _, dead = await backend.callback(location, binder)
        assert dead == {"status": "error", "code": "amo_state_invalid"}
        # The same through exchange-code: a clear HTTP status.
        location, _ = await consent_location(backend, emu, headers)
        emu.control.fault("/oauth2/access_token", method="POST", **fault)
        query = query_of(location)
        body = {k: query[k] for k in ("code", "state", "referer", "platform")}
        response = await backend.client.post(f"{AMO}/exchange-code", headers=headers, json=body)
        assert response.status_code == http_status
        assert response.json()["error"]["code"] == code
        assert (await backend.status(headers))["state"] == "not_connected"
        assert await connection_rows(backend) == []
        emu.control.clear_faults()
        again = await backend.client.post(f"{AMO}/exchange-code", headers=headers, json=body)
        assert again.json()["error"]["code"] == "amo_state_invalid"

    async def test_token_endpoint_redirect_is_never_followed(
        self, make_backend: Any, emu: Any
    ) -> None:
        with Canary() as canary, Canary(redirect_to=canary.url) as redirector:
            backend = await make_backend(amocrm_upstream_url=redirector.url)
            headers = await backend.new_broker()
            location, binder = await consent_location(backend, emu, headers)
            _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_exchange_failed"}
        assert [line.split(" ")[:2] for line in redirector.requests] == [
            ["POST", "/oauth2/access_token"]
        ]
        assert canary.requests == []
        assert await connection_rows(backend) == []

    async def test_amocrm_unreachable(self, make_backend: Any, emu: Any) -> None:
        with Canary() as canary:
            closed_port = canary.url
        backend = await make_backend(amocrm_upstream_url=closed_port)
        headers = await backend.new_broker()
        location, binder = await consent_location(backend, emu, headers)
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_exchange_failed"}
        assert await connection_rows(backend) == []


class TestExchangeCode:
    async def test_exchange_code_connects_the_caller(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        location, _ = await consent_location(backend, emu, headers)
        query = query_of(location)
        body: dict[str, Any] = {k: query[k] for k in ("code", "state", "referer")}
        body["platform"] = int(query["platform"])  # the number is accepted as well
        response = await backend.client.post(f"{AMO}/exchange-code", headers=headers, json=body)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["state"] == "connected"
        assert data["domain"] == "reforyou.amocrm.ru"

    async def test_another_users_state_is_refused(self, backend: Backend, emu: Any) -> None:
        owner = await backend.new_broker()
        intruder = await backend.new_broker()
        location, binder = await consent_location(backend, emu, owner)
        query = query_of(location)
        response = await backend.client.post(
            f"{AMO}/exchange-code",
            headers=intruder,
            json={k: query[k] for k in ("code", "state", "referer", "platform")},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "amo_state_invalid"
        assert token_grants(emu, "authorization_code") == []
        assert (await backend.status(intruder))["state"] == "not_connected"
        # The owner's flow is untouched and still completes.
        _, back = await backend.callback(location, binder)
        assert (await backend.finish(owner, back))["state"] == "connected"


class TestBinderCookie:
    async def test_https_deployment_uses_a_host_prefixed_secure_cookie(
        self, make_backend: Any
    ) -> None:
        backend = await make_backend(public_url="https://api.foryou.example")
        headers = await backend.new_broker()
        parts = urlsplit(await backend.authorize(headers))
        assert parts.netloc == "api.foryou.example"
        response = await backend.client.get(f"{parts.path}?{parts.query}")
        assert response.status_code == 200
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-foryou_amo_flow=")
        for attribute in ("Secure", "HttpOnly", "Path=/", "SameSite=lax", "Max-Age=600"):
            assert attribute in cookie
        assert "Domain" not in cookie
        assert response.headers["strict-transport-security"].startswith("max-age=")

    async def test_loopback_demo_uses_a_plain_httponly_cookie(self, backend: Backend) -> None:
        headers = await backend.new_broker()
        parts = urlsplit(await backend.authorize(headers))
        response = await backend.client.get(f"{parts.path}?{parts.query}")
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("foryou_amo_flow=")
        assert "HttpOnly" in cookie
        assert "Secure" not in cookie
        assert "strict-transport-security" not in response.headers
