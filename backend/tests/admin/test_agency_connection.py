"""The agency connection: a long-lived token is stored only when valid, an amoCRM admin's and
ours; its expiry is warned about and reached on the clock; a 401 revokes it; it fills brokers'
names; and a broker's CRM calls never use it (the emulator's request log says whose token)."""

from __future__ import annotations

from typing import Any

from backend_support import Backend, amo_user, connect
from foryou.agency.models import AgencyConnection
from foryou.auth.models import Role
from foryou.worker import KeepAliveWorker
from sqlalchemy import func, select

from scripts.harness_constants import AMO, API

AGENCY = f"{API}/admin/amo-crm/agency-connection"
DOMAIN = "reforyou.amocrm.ru"


async def _stored(backend: Backend) -> int:
    async with backend.services.db.transaction() as session:
        return int(
            (await session.execute(select(func.count()).select_from(AgencyConnection))).scalar_one()
        )


async def _admin(backend: Backend) -> dict[str, str]:
    return await backend.new_broker(role=Role.ADMIN)


def _worker(backend: Backend) -> KeepAliveWorker:
    services = backend.services
    return KeepAliveWorker(
        db=services.db,
        tokens=services.tokens,
        agency=services.agency,
        clock=backend.clock,
        settings=services.settings,
    )


async def test_valid_admin_token_for_our_integration_is_stored_and_never_shown(
    backend: Backend, emu: Any
) -> None:
    headers = await _admin(backend)
    admin = amo_user(emu, "admin")
    minted = emu.control.long_lived_token(admin["id"], days=60)
    response = await backend.client.post(
        AGENCY, headers=headers, json={"domain": DOMAIN, "token": minted.token}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["health"] == "active"
    assert data["source"] == "long_lived_token"
    assert data["accountId"] == 31920194
    assert data["amoUserId"] == admin["id"]
    assert data["amoUserName"] == admin["name"]
    assert data["tokenLast4"] == minted.token[-4:]
    assert data["expiringSoon"] is False
    shown = await backend.client.get(AGENCY, headers=headers)
    for body in (response.text, shown.text):
        assert minted.token not in body
        assert minted.token[:40] not in body
    async with backend.services.db.transaction() as session:
        (row,) = (await session.execute(select(AgencyConnection))).scalars()
    assert row.token_enc is not None
    assert minted.token not in row.token_enc


async def test_rejected_tokens_leave_nothing_stored(backend: Backend, emu: Any) -> None:
    headers = await _admin(backend)
    admin, broker = amo_user(emu, "admin"), amo_user(emu)
    emu.control.register_integration("other-client", "other-secret", "https://other.test/cb")
    foreign = emu.control.long_lived_token(admin["id"], days=30, client_id="other-client")
    ours = emu.control.long_lived_token(admin["id"], days=30)
    short = emu.control.long_lived_token(admin["id"], days=2)
    revoked = emu.control.long_lived_token(admin["id"], days=30)
    emu.control.revoke_long_lived_token(revoked.jti)
    # A broker's OAuth access token has the very same claims: valid, ours, not an admin's.
    broker_token = emu.token_for(broker["login"])["access_token"]
    cases = [
        ({"domain": f"https://{DOMAIN}", "token": ours.token}, "agency_domain_invalid"),
        ({"domain": DOMAIN, "token": "not-a-token"}, "agency_token_invalid"),
        ({"domain": DOMAIN, "token": foreign.token}, "agency_token_invalid"),
        ({"domain": DOMAIN, "token": revoked.token}, "agency_token_invalid"),
        ({"domain": "foryouglobal.kommo.com", "token": ours.token}, "agency_token_wrong_account"),
        ({"domain": DOMAIN, "token": broker_token}, "agency_token_not_admin"),
    ]
    for body, code in cases:
        response = await backend.client.post(AGENCY, headers=headers, json=body)
        assert response.status_code == 400, (code, response.text)
        assert response.json()["error"]["code"] == code
        assert await _stored(backend) == 0
    # Expired by our clock: refused before amoCRM is asked.
    backend.clock.advance(3 * 86400)
    response = await backend.client.post(
        AGENCY, headers=headers, json={"domain": DOMAIN, "token": short.token}
    )
    assert response.json()["error"]["code"] == "agency_token_invalid"
    assert await _stored(backend) == 0


async def test_expiry_is_warned_from_14_days_and_reached_on_the_clock(
    backend: Backend, emu: Any
) -> None:
    email, _ = await backend.create_user(role=Role.ADMIN)
    headers = await backend.login(email)
    minted = emu.control.long_lived_token(amo_user(emu, "admin")["id"], days=20)
    await backend.client.post(
        AGENCY, headers=headers, json={"domain": DOMAIN, "token": minted.token}
    )
    worker = _worker(backend)
    assert (await worker.run_once()).agency_warned == 0
    backend.clock.advance(7 * 86400)  # 12–13 days left
    counts = await worker.run_once()
    assert (counts.agency_warned, counts.agency_expired) == (1, 0)
    shown = (await backend.client.get(AGENCY, headers=headers)).json()["data"]
    assert (shown["health"], shown["expiringSoon"]) == ("expiring", True)
    assert (await worker.run_once()).agency_warned == 0  # warned once
    backend.clock.advance(14 * 86400)
    assert (await worker.run_once()).agency_expired == 1
    headers = await backend.login(email)  # app tokens live a week in tests
    shown = (await backend.client.get(AGENCY, headers=headers)).json()["data"]
    assert (shown["health"], shown["expiringSoon"]) == ("expired", False)


async def test_401_marks_it_revoked_and_names_come_from_the_catalogue(
    backend: Backend, emu: Any
) -> None:
    headers = await _admin(backend)
    broker = amo_user(emu)
    broker_headers = await backend.new_broker()
    await connect(backend, emu, broker_headers, broker)
    # A broker may not read their own amoCRM user: the name is unknown until the catalogue.
    assert (await backend.status(broker_headers))["amoUserName"] is None
    minted = emu.control.long_lived_token(amo_user(emu, "admin")["id"], days=60)
    await backend.client.post(
        AGENCY, headers=headers, json={"domain": DOMAIN, "token": minted.token}
    )
    assert (await backend.status(broker_headers))["amoUserName"] == broker["name"]

    emu.control.revoke_long_lived_token(minted.jti)
    async with backend.services.db.transaction() as session:
        from foryou.integrations.amocrm.models import AmoCrmConnection
        from sqlalchemy import update

        await session.execute(update(AmoCrmConnection).values(amo_user_name=None))
    await _worker(backend).run_once()
    shown = (await backend.client.get(AGENCY, headers=headers)).json()["data"]
    assert shown["health"] == "revoked"


async def test_broker_crm_calls_never_use_the_agency_token(backend: Backend, emu: Any) -> None:
    headers = await _admin(backend)
    minted = emu.control.long_lived_token(amo_user(emu, "admin")["id"], days=60)
    await backend.client.post(
        AGENCY, headers=headers, json={"domain": DOMAIN, "token": minted.token}
    )
    broker = amo_user(emu, index=1)
    broker_headers = await backend.new_broker()
    await connect(backend, emu, broker_headers, broker)
    emu.control.clear_requests()
    for path in ("/crm/pipelines", "/crm/leads?mine=false", "/crm/leads"):
        response = await backend.client.get(f"{API}{path}", headers=broker_headers)
        assert response.status_code == 200, response.text
    logged = [row for row in emu.control.requests() if row["path"].startswith("/api/v4/")]
    crm_calls = [row for row in logged if row["path"] != "/api/v4/users"]
    assert crm_calls
    for row in crm_calls:
        assert row["user_id"] == broker["id"], row
        assert row["token_fingerprint"] != minted.fingerprint, row
    for row in logged:
        if row["token_fingerprint"] == minted.fingerprint:
            assert row["path"] == "/api/v4/users", row


async def test_an_amocrm_admins_own_connection_can_be_the_agency_connection(
    backend: Backend, emu: Any
) -> None:
    use_mine = f"{AGENCY}/use-my-connection"
    not_connected = await _admin(backend)
    assert (await backend.client.post(use_mine, headers=not_connected)).json()["error"][
        "code"
    ] == "agency_connection_unusable"
    broker_admin = await _admin(backend)
    await connect(backend, emu, broker_admin, amo_user(emu))
    refused = await backend.client.post(use_mine, headers=broker_admin)
    assert refused.json()["error"]["code"] == "agency_token_not_admin"
    assert await _stored(backend) == 0

    headers = await _admin(backend)
    await connect(backend, emu, headers, amo_user(emu, "admin"))
    response = await backend.client.post(use_mine, headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["health"], data["source"], data["tokenLast4"]) == ("active", "oauth", None)
    await backend.client.post(f"{AMO}/disconnect", headers=headers)
    assert (await backend.client.get(AGENCY, headers=headers)).json()["data"]["health"] == "revoked"
    deleted = await backend.client.delete(AGENCY, headers=headers)
    assert deleted.status_code == 200
    assert (await backend.client.get(AGENCY, headers=headers)).json()["data"]["health"] == "none"
