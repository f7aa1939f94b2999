"""Two-phase completion (DESIGN §2): the callback keeps its result pending behind a one-time
ticket that only the flow's owner redeems; one amoCRM user belongs to one ForYou user."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest
from backend_support import Backend, amo_user, connect, query_of
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmOAuthFlow
from foryou.worker.keepalive import KeepAliveWorker
from sqlalchemy import select

from scripts.harness_constants import AMO, API


async def pending_back(
    backend: Backend,
    emu: Any,
    headers: dict[str, str],
    user: dict[str, Any],
    browser: dict[str, str] | None = None,
) -> dict[str, str]:
    """Authorize as `headers`; the start link is opened and consented to as `user`; returns
    the app query the callback sent back (status pending and the ticket)."""
    consent_url, binder = await backend.start(await backend.authorize(headers))
    location = emu.consent(consent_url, user["login"], user["password"])
    _, back = await backend.callback(location, binder)
    assert back["status"] == "pending", back
    return back


async def flows(backend: Backend) -> list[AmoCrmOAuthFlow]:
    async with backend.services.db.transaction() as session:
        return list((await session.execute(select(AmoCrmOAuthFlow))).scalars())


async def connections(backend: Backend) -> list[AmoCrmConnection]:
    async with backend.services.db.transaction() as session:
        return list((await session.execute(select(AmoCrmConnection))).scalars())


def error_code(response: Any) -> str:
    code: str = response.json()["error"]["code"]
    return code


class TestAccountLinkingCsrf:
    async def test_colleague_consenting_to_anothers_link_connects_nobody(
        self, backend: Backend, emu: Any
    ) -> None:
        c_email, c_id = await backend.create_user()
        v_email, v_id = await backend.create_user()
        attacker, victim = await backend.login(c_email), await backend.login(v_email)
        v_amo = amo_user(emu, index=1)
        # C authorizes and sends the link; V's browser opens it and consents as V.
        back = await pending_back(backend, emu, attacker, v_amo)
        status = await backend.status(attacker)
        assert status["state"] == "not_connected"
        assert status["amoUserId"] is None
        assert await connections(backend) == []

        # V's app holds the ticket (the redirect reached V's browser): V is not the owner.
        refused = await backend.complete(victim, back["ticket"])
        assert refused.status_code == 403
        assert error_code(refused) == "amo_flow_not_yours"
        assert "another ForYou account" in refused.json()["error"]["message"]
        # The flow is dead: not even its owner can redeem it now.
        dead = await backend.complete(attacker, back["ticket"])
        assert dead.status_code == 400
        assert error_code(dead) == "amo_ticket_invalid"

        async with backend.services.db.transaction() as session:
            events = await repository.list_events(session, c_id)
        assert [(e.kind, e.reason) for e in events] == [("flow_hijack_refused", f"caller:{v_id}")]
        [flow] = await flows(backend)
        assert flow.pending_until is None
        assert flow.pending_access_enc is None
        assert flow.pending_refresh_enc is None
        for headers in (attacker, victim):
            status = await backend.status(headers)
            assert status["state"] == "not_connected"
            assert status["amoUserId"] is None
        leads = await backend.client.get(f"{API}/crm/leads", headers=attacker)
        assert leads.status_code == 409
        assert error_code(leads) == "amo_not_connected"
        assert await connections(backend) == []


class TestTicket:
    async def test_owner_redeems_once(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        back = await pending_back(backend, emu, headers, amo_user(emu))
        [flow] = await flows(backend)
        assert flow.ticket_hash is not None
        assert back["ticket"] not in flow.ticket_hash
        assert flow.pending_access_enc is not None
        assert not flow.pending_access_enc.startswith("eyJ")

        first = await backend.complete(headers, back["ticket"])
        assert first.status_code == 200, first.text
        assert first.json()["data"]["state"] == "connected"
        assert first.json()["data"]["amoUserId"] == amo_user(emu)["id"]
        again = await backend.complete(headers, back["ticket"])
        assert again.status_code == 400
        assert error_code(again) == "amo_ticket_invalid"
        [flow] = await flows(backend)
        assert flow.pending_until is None
        # The connection's tokens work: they were resealed to the connection.
        leads = await backend.client.get(f"{API}/crm/leads", headers=headers)
        assert leads.status_code == 200, leads.text

    @pytest.mark.parametrize("ticket", ["", "short", "a" * 43, "!" * 43, "a" * 500])
    async def test_unknown_or_malformed_ticket(self, backend: Backend, ticket: str) -> None:
        headers = await backend.new_broker()
        response = await backend.complete(headers, ticket)
        assert response.status_code == 400
        assert error_code(response) == "amo_ticket_invalid"

    async def test_complete_requires_the_app_jwt(self, backend: Backend) -> None:
        response = await backend.client.post(f"{AMO}/complete", json={"ticket": "a" * 43})
        assert response.status_code == 401

    async def test_ticket_expires_after_ten_minutes(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        back = await pending_back(backend, emu, headers, amo_user(emu))
        backend.clock.advance(601)
        expired = await backend.complete(headers, back["ticket"])
        assert expired.status_code == 400
        assert error_code(expired) == "amo_ticket_expired"
        [flow] = await flows(backend)
        assert flow.pending_access_enc is None
        again = await backend.complete(headers, back["ticket"])
        assert error_code(again) == "amo_ticket_invalid"
        assert (await backend.status(headers))["state"] == "not_connected"

    async def test_worker_purges_unredeemed_results(self, backend: Backend, emu: Any) -> None:
        headers = await backend.new_broker()
        back = await pending_back(backend, emu, headers, amo_user(emu))
        services = backend.services
        worker = KeepAliveWorker(
            db=services.db, tokens=services.tokens, clock=backend.clock, settings=services.settings
        )
        await worker.run_once()
        [flow] = await flows(backend)
        assert flow.pending_access_enc is not None  # still within its ten minutes
        backend.clock.advance(601)
        counts = await worker.run_once()
        assert counts.pending_wiped == 1
        [flow] = await flows(backend)
        assert (flow.pending_until, flow.pending_access_enc, flow.pending_refresh_enc) == (
            None,
            None,
            None,
        )
        backend.clock.advance(2 * 3600)
        counts = await worker.run_once()
        assert counts.purged == 1
        assert await flows(backend) == []
        response = await backend.complete(headers, back["ticket"])
        assert error_code(response) == "amo_ticket_invalid"


class TestOneForYouUserPerAmoUser:
    async def test_second_foryou_user_is_refused(self, backend: Backend, emu: Any) -> None:
        first, second = await backend.new_broker(), await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, first, user)
        back = await pending_back(backend, emu, second, user)
        refused = await backend.complete(second, back["ticket"])
        assert refused.status_code == 409
        assert error_code(refused) == "amo_user_already_linked"
        assert "admin" in refused.json()["error"]["message"]
        assert (await backend.status(second))["state"] == "not_connected"
        assert (await backend.status(first))["amoUserId"] == user["id"]

        # exchange-code obeys the same rule.
        consent_url, _ = await backend.start(await backend.authorize(second))
        query = query_of(emu.consent(consent_url, user["login"], user["password"]))
        body = {k: query[k] for k in ("code", "state", "referer", "platform")}
        response = await backend.client.post(f"{AMO}/exchange-code", headers=second, json=body)
        assert response.status_code == 409
        assert error_code(response) == "amo_user_already_linked"

    async def test_freed_after_disconnect_and_same_user_replaces_in_place(
        self, backend: Backend, emu: Any
    ) -> None:
        first, second = await backend.new_broker(), await backend.new_broker()
        user = amo_user(emu)
        await connect(backend, emu, first, user)
        [before] = await connections(backend)
        await connect(backend, emu, first, user)
        [after] = await connections(backend)
        assert after.id == before.id
        assert after.version == before.version + 1
        await backend.client.post(f"{AMO}/disconnect", headers=first)
        await connect(backend, emu, second, user)
        assert (await backend.status(second))["amoUserId"] == user["id"]

    async def test_concurrent_redemptions_for_one_amo_user(
        self, backend: Backend, emu: Any
    ) -> None:
        first, second = await backend.new_broker(), await backend.new_broker()
        user = amo_user(emu)
        tickets = [
            (headers, (await pending_back(backend, emu, headers, user))["ticket"])
            for headers in (first, second)
        ]
        results = await asyncio.gather(
            *(backend.complete(headers, ticket) for headers, ticket in tickets)
        )
        assert sorted(r.status_code for r in results) == [200, 409]
        [loser] = [r for r in results if r.status_code == 409]
        assert error_code(loser) == "amo_user_already_linked"
        linked = [row for row in await connections(backend) if row.status == "active"]
        assert len(linked) == 1


class TestThrottles:
    @pytest.mark.parametrize("path", ["complete", "exchange-code"])
    async def test_json_endpoints_answer_429(self, backend: Backend, path: str) -> None:
        headers = await backend.new_broker()
        for _ in range(30):
            response = await backend.client.post(f"{AMO}/{path}", headers=headers, json={})
            assert response.status_code != 429
        limited = await backend.client.post(f"{AMO}/{path}", headers=headers, json={})
        assert limited.status_code == 429
        assert error_code(limited) == "too_many_requests"
        assert int(limited.headers["retry-after"]) > 0

    async def test_callback_answers_429_with_a_page(self, backend: Backend) -> None:
        for _ in range(30):
            response = await backend.client.get(f"{AMO}/oauth/callback?state=x")
            assert response.status_code == 400
        limited = await backend.client.get(
            f"{AMO}/oauth/callback?state=x", headers={"Accept-Language": "uk"}
        )
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("text/html")
        assert "Забагато спроб" in limited.text
        assert int(limited.headers["retry-after"]) > 0


START_TEXT = {
    "uk": "Продовжити до amoCRM",
    "en": "Continue to amoCRM",
    "ru": "Продолжить в amoCRM",
}
UNKNOWN_TEXT = {
    "uk": "Ми не знаємо, з якого застосунку",
    "en": "We cannot tell which app",
    "ru": "Мы не знаем, из какого приложения",
}
EXPIRED_TEXT = {
    "uk": "Час на підключення минув",
    "en": "This connection attempt has expired",
    "ru": "Время на подключение истекло",
}
DENIED_TEXT = {
    "uk": "Доступ в amoCRM не надано",
    "en": "Access was not granted in amoCRM",
    "ru": "Доступ в amoCRM не предоставлен",
}
DAMAGED_TEXT = {
    "uk": "Посилання пошкоджене або неповне",
    "en": "The link is damaged or incomplete",
    "ru": "Ссылка повреждена или неполна",
}
LANGUAGE_HEADER = {"uk": "uk-UA,uk;q=0.9", "en": "en-GB,en;q=0.9", "ru": "ru,en;q=0.5"}


def assert_browser_page(response: Any, language: str) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert f"<html lang={language}>" in response.text
    assert "<script" not in response.text


@pytest.mark.parametrize("language", ["uk", "en", "ru"])
class TestBrowserPages:
    async def test_start_page_names_the_account_holder(
        self, backend: Backend, language: str
    ) -> None:
        email, _ = await backend.create_user(email="olena@foryou.example", name="Olena")
        headers = await backend.login(email)
        parts = urlsplit(await backend.authorize(headers))
        response = await backend.client.get(
            f"{parts.path}?{parts.query}", headers={"Accept-Language": LANGUAGE_HEADER[language]}
        )
        assert response.status_code == 200
        assert_browser_page(response, language)
        assert "o***a@foryou.example" in response.text
        assert "olena@" not in response.text
        assert "Olena" in response.text
        assert START_TEXT[language] in response.text
        assert "foryou_amo_flow=" in response.headers["set-cookie"]

    async def test_reopened_start_link_says_it_was_used(
        self, backend: Backend, language: str
    ) -> None:
        headers = await backend.new_broker()
        authorize_url = await backend.authorize(headers)
        await backend.start(authorize_url)
        parts = urlsplit(authorize_url)
        again = await backend.client.get(
            f"{parts.path}?{parts.query}", headers={"Accept-Language": language}
        )
        assert again.status_code == 302
        assert_browser_page(again, language)
        assert "amo_state_invalid" in again.text
        assert 'href="foryouapp://amo-crm/callback?status=error' in again.text

    @pytest.mark.parametrize("route", ["oauth/start?flow=", "oauth/callback?state="])
    async def test_unknown_flow_offers_the_web_app(
        self, backend: Backend, language: str, route: str
    ) -> None:
        response = await backend.client.get(
            f"{AMO}/{route}{'a' * 43}", headers={"Accept-Language": language}
        )
        assert response.status_code == 400
        assert "location" not in response.headers
        assert_browser_page(response, language)
        assert UNKNOWN_TEXT[language] in response.text
        assert 'href="http://127.0.0.1:8081/amo-crm/callback?status=error' in response.text
        assert "foryouapp://" not in response.text

    async def test_unknown_flow_without_a_web_app(self, make_backend: Any, language: str) -> None:
        backend = await make_backend(web_return_url=None)
        response = await backend.client.get(
            f"{AMO}/oauth/callback?state=unknown", headers={"Accept-Language": language}
        )
        assert response.status_code == 400
        assert UNKNOWN_TEXT[language] in response.text
        assert "<a " not in response.text

    @pytest.mark.parametrize(
        "query",
        [
            "oauth/start?flow=" + "f" * 65,
            "oauth/callback?state=" + "s" * 65,
            "oauth/callback?code=" + "c" * 4097,
            "oauth/callback?referer=" + "r" * 254,
            "oauth/callback?platform=123456789",
        ],
    )
    async def test_over_long_parameters_get_a_page_not_json(
        self, backend: Backend, language: str, query: str
    ) -> None:
        response = await backend.client.get(f"{AMO}/{query}", headers={"Accept-Language": language})
        assert response.status_code == 400
        assert_browser_page(response, language)
        assert DAMAGED_TEXT[language] in response.text
        assert "validation_error" in response.text

    async def test_expired_flow(self, backend: Backend, language: str) -> None:
        headers = await backend.new_broker()
        parts = urlsplit(await backend.authorize(headers))
        backend.clock.advance(601)
        response = await backend.client.get(
            f"{parts.path}?{parts.query}", headers={"Accept-Language": language}
        )
        assert response.status_code == 302
        assert query_of(response.headers["location"]) == {
            "status": "error",
            "code": "amo_state_expired",
        }
        assert_browser_page(response, language)
        assert EXPIRED_TEXT[language] in response.text

    async def test_denial(self, backend: Backend, emu: Any, language: str) -> None:
        headers = await backend.new_broker()
        consent_url, binder = await backend.start(await backend.authorize(headers))
        user = amo_user(emu)
        location = emu.consent(consent_url, user["login"], user["password"], decision="deny")
        parts = urlsplit(location)
        response = await backend.client.get(
            f"{parts.path}?{parts.query}",
            headers={"Accept-Language": language, "Cookie": f"foryou_amo_flow={binder}"},
        )
        assert response.status_code == 302
        assert query_of(response.headers["location"])["code"] == "amo_access_denied"
        assert_browser_page(response, language)
        assert DENIED_TEXT[language] in response.text

    async def test_json_routes_keep_the_envelope(self, backend: Backend, language: str) -> None:
        headers = await backend.new_broker()
        response = await backend.client.post(
            f"{AMO}/complete",
            headers={**headers, "Accept-Language": language},
            json={"ticket": "t" * 600},
        )
        assert response.status_code == 422
        assert error_code(response) == "validation_error"
