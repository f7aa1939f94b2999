"""Using the connection: a usable token, refresh near expiry, one retry after a 401,
"revoked" → reauth_required (never a silent delete), one refresh for many callers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from backend_support import Backend, amo_user, connect, token_grants
from foryou.integrations.amocrm.models import AmoCrmConnection, AmoCrmConnectionEvent
from foryou.integrations.amocrm.tokens import TokenProvider
from sqlalchemy import select

from scripts.harness_constants import API

DAY = 86400


async def connected_broker(backend: Backend, emu: Any) -> tuple[dict[str, str], Any]:
    email, user_id = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu))
    return headers, user_id


async def row_of(backend: Backend, user_id: Any) -> AmoCrmConnection:
    async with backend.services.db.transaction() as session:
        result = await session.execute(
            select(AmoCrmConnection).where(AmoCrmConnection.user_id == user_id)
        )
        return result.scalar_one()


async def event_kinds(backend: Backend, user_id: Any) -> list[str]:
    async with backend.services.db.transaction() as session:
        result = await session.execute(
            select(AmoCrmConnectionEvent)
            .where(AmoCrmConnectionEvent.user_id == user_id)
            # Events of one step share a timestamp; the kind orders them deterministically.
            .order_by(AmoCrmConnectionEvent.created_at, AmoCrmConnectionEvent.kind)
        )
        return [event.kind for event in result.scalars()]


class TestTokenRefresh:
    async def test_fresh_token_is_used_without_refreshing(self, backend: Backend, emu: Any) -> None:
        _, user_id = await connected_broker(backend, emu)
        token = await backend.services.tokens.usable_token(user_id)
        assert token.host.host == "reforyou.amocrm.ru"
        assert token_grants(emu, "refresh_token") == []

    async def test_token_refresh_near_expiry(self, backend: Backend, emu: Any) -> None:
        headers, user_id = await connected_broker(backend, emu)
        before = await row_of(backend, user_id)
        # Our clock says the access token expires in 10 minutes (inside the 15-minute margin).
        backend.clock.advance(DAY - 600)
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.status_code == 200, response.text
        after = await row_of(backend, user_id)
        assert len(token_grants(emu, "refresh_token")) == 1
        assert after.version == before.version + 1
        assert after.refresh_token_enc != before.refresh_token_enc
        assert after.lease_owner is None
        assert after.access_expires_at is not None
        assert after.access_expires_at > backend.clock.now()
        assert await event_kinds(backend, user_id) == ["connected", "refreshed"]
        # The new token is good for a day again: no second refresh.
        assert (await backend.client.get(f"{API}/crm/pipelines", headers=headers)).is_success
        assert len(token_grants(emu, "refresh_token")) == 1

    async def test_one_retry_after_refresh_on_401(self, backend: Backend, emu: Any) -> None:
        headers, _user_id = await connected_broker(backend, emu)
        # amoCRM considers the token dead although our clock does not know it.
        emu.control.expire_tokens(amo_user(emu)["id"])
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.status_code == 200, response.text
        assert len(token_grants(emu, "refresh_token")) == 1
        assert (await backend.status(headers))["state"] == "connected"

    async def test_refresh_revoked_means_reauth_required(self, backend: Backend, emu: Any) -> None:
        headers, user_id = await connected_broker(backend, emu)
        emu.control.revoke(amo_user(emu)["id"])
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "amo_reauth_required"
        status = await backend.status(headers)
        assert status["state"] == "reauth_required"
        assert status["reason"] == "refresh_revoked"
        assert status["connected"] is False
        assert status["hasTokens"] is False
        assert status["domain"] == "reforyou.amocrm.ru"
        row = await row_of(backend, user_id)  # kept, not deleted
        assert row.refresh_token_enc is None
        assert await event_kinds(backend, user_id) == [
            "connected",
            "reauth_required",
            "refresh_failed",
        ]
        # No refresh loop: the next call answers at once without asking amoCRM.
        again = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert again.json()["error"]["code"] == "amo_reauth_required"
        assert len(token_grants(emu, "refresh_token")) == 1

    async def test_reconnect_after_reauth_required(self, backend: Backend, emu: Any) -> None:
        headers, _ = await connected_broker(backend, emu)
        emu.control.revoke(amo_user(emu)["id"])
        await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        await connect(backend, emu, headers, amo_user(emu))
        status = await backend.status(headers)
        assert status["state"] == "connected"
        assert status["reason"] is None

    async def test_concurrent_callers_share_one_refresh(self, backend: Backend, emu: Any) -> None:
        headers, _ = await connected_broker(backend, emu)
        backend.clock.advance(DAY + 60)  # expired by our clock
        responses = await asyncio.gather(
            *(backend.client.get(f"{API}/crm/pipelines", headers=headers) for _ in range(8))
        )
        assert [r.status_code for r in responses] == [200] * 8
        assert len(token_grants(emu, "refresh_token")) == 1

    async def test_two_processes_refresh_once(self, backend: Backend, emu: Any) -> None:
        _, user_id = await connected_broker(backend, emu)
        services = backend.services
        # A second provider with its own lease identity stands in for another process.
        other = TokenProvider(
            db=services.db,
            cipher=services.connections._cipher,
            client=services.amocrm,
            clock=backend.clock,
            settings=services.settings,
            lease_owner="other-process",
        )
        backend.clock.advance(DAY + 60)
        tokens = await asyncio.gather(
            *(provider.usable_token(user_id) for provider in [services.tokens, other] * 3)
        )
        assert len({token.access_token for token in tokens}) == 1
        assert len(token_grants(emu, "refresh_token")) == 1
        assert (await row_of(backend, user_id)).lease_owner is None

    async def test_refresh_failure_keeps_serving_a_valid_token(
        self, backend: Backend, emu: Any
    ) -> None:
        headers, user_id = await connected_broker(backend, emu)
        backend.clock.advance(DAY - 600)  # near expiry, still valid
        emu.control.fault("/oauth2/access_token", method="POST", status=500)
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.status_code == 200, response.text
        assert await event_kinds(backend, user_id) == ["connected", "refresh_failed"]
        assert (await backend.status(headers))["state"] == "connected"
        assert (await row_of(backend, user_id)).lease_owner is None

    async def test_refresh_failure_with_an_expired_token_is_a_clear_upstream_error(
        self, backend: Backend, emu: Any
    ) -> None:
        headers, _ = await connected_broker(backend, emu)
        backend.clock.advance(DAY + 60)
        emu.control.fault("/oauth2/access_token", method="POST", status=500)
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "amo_upstream_error"
        assert (await backend.status(headers))["state"] == "connected"

    async def test_disconnect_during_use_is_not_resurrected(
        self, backend: Backend, emu: Any
    ) -> None:
        headers, user_id = await connected_broker(backend, emu)
        stale = await row_of(backend, user_id)
        await backend.client.post(f"{API}/integrations/amo-crm/disconnect", headers=headers)
        # A refresh that read the row before the disconnect can no longer write its pair.
        from foryou.integrations.amocrm import repository
        from foryou.integrations.amocrm.repository import SealedPair

        async with backend.services.db.transaction() as session:
            written = await repository.write_refreshed_pair(
                session,
                stale.id,
                expected_version=stale.version,
                pair=SealedPair("k1", "x", "y", backend.clock.now(), backend.clock.now()),
                now=backend.clock.now(),
            )
        assert written is False
        assert (await backend.status(headers))["state"] == "not_connected"
        row = await row_of(backend, user_id)
        assert row.access_token_enc is None
        assert row.refresh_token_enc is None


class TestMisconfiguredClient:
    async def test_wrong_client_secret_never_costs_a_connection(
        self, make_backend: Any, emu: Any
    ) -> None:
        backend = await make_backend()
        headers, user_id = await connected_broker(backend, emu)
        misconfigured = await make_backend(amocrm_client_secret="not-the-secret")
        misconfigured.clock.advance(DAY + 60)
        response = await misconfigured.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "amo_upstream_error"
        row = await row_of(backend, user_id)
        assert row.status == "active"
        assert row.refresh_token_enc is not None
        assert (await backend.status(headers))["state"] == "connected"
        # With the right secret the same connection refreshes fine.
        backend.clock.advance(DAY + 60)
        assert (await backend.client.get(f"{API}/crm/pipelines", headers=headers)).is_success

    async def test_wrong_client_secret_fails_the_exchange_clearly(
        self, make_backend: Any, emu: Any
    ) -> None:
        backend = await make_backend(amocrm_client_secret="not-the-secret")
        headers = await backend.new_broker()
        consent_url, binder = await backend.start(await backend.authorize(headers))
        user = amo_user(emu)
        location = emu.consent(consent_url, user["login"], user["password"])
        _, back = await backend.callback(location, binder)
        assert back == {"status": "error", "code": "amo_exchange_failed"}
        assert (await backend.status(headers))["state"] == "not_connected"


async def test_missing_encryption_key_keeps_tokens_and_says_so(make_backend: Any, emu: Any) -> None:
    from scripts.harness_constants import ENCRYPTION_KEY_2

    backend = await make_backend()
    headers, user_id = await connected_broker(backend, emu)
    before = await row_of(backend, user_id)
    wrong_keys = await make_backend(encryption_keys=f"k2:{ENCRYPTION_KEY_2}")
    wrong_keys.clock.advance(DAY + 60)
    response = await wrong_keys.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "token_keys_unavailable"
    after = await row_of(backend, user_id)
    assert after.refresh_token_enc == before.refresh_token_enc
    assert after.lease_owner is None
    assert token_grants(emu, "refresh_token") == []


class TestRefreshLease:
    async def claim_as_other_process(self, backend: Backend, user_id: Any) -> None:
        from foryou.integrations.amocrm import repository

        row = await row_of(backend, user_id)
        now = backend.clock.now()
        async with backend.services.db.transaction() as session:
            claimed = await repository.claim_refresh_lease(
                session,
                row.id,
                owner="another-process",
                expected_version=row.version,
                now=now,
                lease_until=now + timedelta(seconds=30),
            )
        assert claimed

    async def test_while_another_process_refreshes_the_valid_token_is_served(
        self, backend: Backend, emu: Any
    ) -> None:
        _, user_id = await connected_broker(backend, emu)
        backend.clock.advance(DAY - 600)  # inside the margin, not expired
        await self.claim_as_other_process(backend, user_id)
        token = await backend.services.tokens.usable_token(user_id)
        assert token.access_token.startswith("eyJ")
        assert token_grants(emu, "refresh_token") == []

    async def test_a_lease_left_by_a_crashed_process_is_taken_over_when_it_expires(
        self, backend: Backend, emu: Any
    ) -> None:
        _, user_id = await connected_broker(backend, emu)
        await self.claim_as_other_process(backend, user_id)
        backend.clock.advance(DAY + 60)  # token expired, the dead lease too
        token = await backend.services.tokens.usable_token(user_id)
        assert len(token_grants(emu, "refresh_token")) == 1
        row = await row_of(backend, user_id)
        assert row.version == token.version
        assert row.lease_owner is None

    async def test_a_crash_that_lost_the_rotation_is_reported_not_looped(
        self, backend: Backend, emu: Any
    ) -> None:
        headers, user_id = await connected_broker(backend, emu)
        await self.claim_as_other_process(backend, user_id)
        # The other process got amoCRM's new pair and died before committing it.
        emu.control.revoke(amo_user(emu)["id"])
        backend.clock.advance(DAY + 60)
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        assert response.json()["error"]["code"] == "amo_reauth_required"
        status = await backend.status(headers)
        assert status["reason"] == "rotation_lost"
        assert len(token_grants(emu, "refresh_token")) == 1
