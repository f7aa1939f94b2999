"""Long-lived tokens from the «Ключи» tab: admin-only, OAuth claims, midnight expiry, 401
after expiry (emulator clock) or revocation, and the request log's token fingerprint."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import jwt
import pytest
from amocrm_emulator.testing import EmulatorError, RunningEmulator

from scripts.harness_constants import CLIENT_ID

ACCOUNT = "https://reforyou.amocrm.ru/api/v4/account"


def _seeded(emu: RunningEmulator, role: str) -> dict[str, object]:
    return emu.control.users(role=role, account_subdomain="reforyou")[0]


def test_admin_gets_a_jwt_with_oauth_claims_that_expires_at_midnight_utc(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    admin = _seeded(emu, "admin")
    minted = emu.control.long_lived_token(int(str(admin["id"])), days=30)
    claims = jwt.decode(minted.token, options={"verify_signature": False})
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == str(admin["id"])
    assert claims["base_domain"] == "amocrm.ru"
    assert claims["exp"] == minted.expires_at
    expiry = datetime.fromtimestamp(minted.expires_at, UTC)
    assert (expiry.hour, expiry.minute, expiry.second) == (0, 0, 0)
    response = client.get(ACCOUNT, headers={"Authorization": f"Bearer {minted.token}"})
    assert response.status_code == 200
    assert response.json()["current_user_id"] == admin["id"]
    (logged,) = emu.control.requests(path="/api/v4/account")
    assert logged["token_fingerprint"] == minted.fingerprint
    assert minted.token not in str(logged)


def test_non_admin_is_refused_like_the_ui(emu: RunningEmulator) -> None:
    broker = _seeded(emu, "broker")
    with pytest.raises(EmulatorError, match="403"):
        emu.control.long_lived_token(int(str(broker["id"])), days=30)


@pytest.mark.parametrize("body", [{"days": 0}, {"days": 5 * 366 + 1}, {"expires_at": "soon"}, {}])
def test_expiry_outside_one_day_to_five_years_is_refused(
    emu: RunningEmulator, body: dict[str, object]
) -> None:
    admin = _seeded(emu, "admin")
    with httpx.Client(base_url=emu.base_url) as http:
        response = http.post("/_emulator/long-lived-tokens", json={"user_id": admin["id"], **body})
    assert response.status_code == 400


def test_401_after_expiry_and_after_revocation(emu: RunningEmulator, client: httpx.Client) -> None:
    admin_id = int(str(_seeded(emu, "admin")["id"]))
    expiring = emu.control.long_lived_token(admin_id, days=2)
    revoked = emu.control.long_lived_token(admin_id, days=2)
    emu.control.revoke_long_lived_token(revoked.jti)
    assert (
        client.get(ACCOUNT, headers={"Authorization": f"Bearer {revoked.token}"}).status_code == 401
    )
    assert (
        client.get(ACCOUNT, headers={"Authorization": f"Bearer {expiring.token}"}).status_code
        == 200
    )
    emu.control.advance_clock(3 * 86400)
    assert (
        client.get(ACCOUNT, headers={"Authorization": f"Bearer {expiring.token}"}).status_code
        == 401
    )
