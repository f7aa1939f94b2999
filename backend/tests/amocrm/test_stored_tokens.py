"""What the connection row holds, end to end: sealed tokens only, and never an older pair
written over a newer one."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import uuid
from typing import Any

import pytest
from amocrm_emulator.testing import RunningEmulator
from backend_support import Backend, amo_user, connect, token_grants
from foryou.config import parse_encryption_keys
from foryou.crypto import DecryptionError, TokenCipher, TokenContext
from sqlalchemy import text

from scripts.harness_constants import (
    API,
    CLIENT_ID,
    CLIENT_SECRET,
    ENCRYPTION_KEY_1,
    ENCRYPTION_KEY_2,
)

DAY = 86400
ACCOUNT = "https://reforyou.amocrm.ru"


async def connected_broker(backend: Backend, emu: Any) -> tuple[dict[str, str], Any]:
    email, user_id = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu))
    return headers, user_id


async def stored_row(backend: Backend, user_id: Any) -> dict[str, Any]:
    """The connection row as the database holds it, every column, no ORM in between."""
    async with backend.services.db.transaction() as session:
        result = await session.execute(text("SELECT * FROM amocrm_connections"))
        rows = [dict(row) for row in result.mappings()]
    [row] = [row for row in rows if as_uuid(row["user_id"]) == user_id]
    return row


def as_uuid(value: Any) -> uuid.UUID:
    """A UUID column as read raw: a UUID on PostgreSQL, 32 hex digits on SQLite."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def context_of(row: dict[str, Any], field: str) -> TokenContext:
    return TokenContext(as_uuid(row["id"]), as_uuid(row["user_id"]), field)


def readable_forms(token: str) -> set[str]:
    """The token as text, and as the usual encodings that only hide it from a glance."""
    raw = token.encode()
    return {
        token,
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
    }


def decoded_views(value: str) -> list[bytes]:
    """A stored value decoded every way an encoding-only "cipher" could have written it."""
    views = [value.encode()]
    padded = value + "=" * (-len(value) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        # binascii.Error is a ValueError: a value that is not of the encoding is skipped.
        with contextlib.suppress(ValueError):
            views.append(decode(padded))
    with contextlib.suppress(ValueError):
        views.append(bytes.fromhex(value))
    return views


def usable_at_amocrm(emu: RunningEmulator, access_token: str) -> bool:
    with emu.client() as http:
        response = http.get(
            f"{ACCOUNT}/api/v4/account", headers={"Authorization": f"Bearer {access_token}"}
        )
    return response.status_code == 200


async def test_the_row_holds_tokens_only_sealed_under_the_key(backend: Backend, emu: Any) -> None:
    _, user_id = await connected_broker(backend, emu)
    row = await stored_row(backend, user_id)
    assert row["token_key_id"] == "k1"
    cipher = TokenCipher(parse_encryption_keys(f"k1:{ENCRYPTION_KEY_1}"))
    tokens = {
        field: cipher.decrypt(row[f"{field}_enc"], "k1", context_of(row, field))
        for field in ("access_token", "refresh_token")
    }
    # What the key opens is the live pair amoCRM issued.
    assert (
        tokens["access_token"] == (await backend.services.tokens.usable_token(user_id)).access_token
    )
    assert usable_at_amocrm(emu, tokens["access_token"])

    for column, value in row.items():
        if not isinstance(value, str):
            continue
        for token in tokens.values():
            for form in readable_forms(token):
                assert form not in value, f"{column} holds a token in a readable form"
            for view in decoded_views(value):
                assert token.encode() not in view, f"{column} decodes to a token"

    # Without the key — or bound to another row, user or field — nothing opens.
    wrong_key = TokenCipher(parse_encryption_keys(f"k1:{ENCRYPTION_KEY_2}"))
    with pytest.raises(DecryptionError):
        wrong_key.decrypt(row["access_token_enc"], "k1", context_of(row, "access_token"))
    with pytest.raises(DecryptionError):
        cipher.decrypt(row["access_token_enc"], "k1", context_of(row, "refresh_token"))

    # The refresh token the key opened is the one amoCRM will rotate.
    with emu.client() as http:
        rotated = http.post(
            f"{ACCOUNT}/oauth2/access_token",
            json={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "redirect_uri": backend.services.settings.amocrm_redirect_uri,
            },
        )
    assert rotated.status_code == 200, rotated.text


async def until_taken(emu: Any) -> None:
    """Wait until the emulator has taken the injected fault (the request reached it)."""
    deadline = time.monotonic() + 5
    while emu.control.faults():
        assert time.monotonic() < deadline, "the request never reached amoCRM"
        await asyncio.sleep(0.02)


async def test_a_refresh_finishing_after_a_reconnect_keeps_the_reconnects_pair(
    make_backend: Any, emu: Any
) -> None:
    # A timeout long enough for amoCRM's slow answer below, and for the reconnect meanwhile.
    backend = await make_backend(amocrm_timeout_seconds=15.0)
    headers, user_id = await connected_broker(backend, emu)
    backend.clock.advance(DAY - 600)  # inside the refresh margin: the next call refreshes
    # amoCRM rotates the pair at once but its answer takes seconds to arrive.
    emu.control.fault("/oauth2/access_token", delay=3.0, after_processing=True)
    held = asyncio.create_task(backend.client.get(f"{API}/crm/pipelines", headers=headers))
    await until_taken(emu)
    assert len(token_grants(emu, "refresh_token")) == 0, "the refresh is still held"

    await connect(backend, emu, headers, amo_user(emu))
    reconnected = await stored_row(backend, user_id)
    reconnect_token = (await backend.services.tokens.usable_token(user_id)).access_token
    assert not held.done(), "the reconnect finished while the refresh was held"

    response = await held
    assert response.status_code == 200, response.text
    assert len(token_grants(emu, "refresh_token")) == 1
    after = await stored_row(backend, user_id)
    # The late refresh lost its compare-and-swap: the reconnect's pair is intact.
    for column in ("version", "access_token_enc", "refresh_token_enc", "access_expires_at"):
        assert after[column] == reconnected[column], column
    token = await backend.services.tokens.usable_token(user_id)
    assert token.access_token == reconnect_token
    assert token.version == reconnected["version"]
    again = await backend.client.get(
        f"{API}/crm/pipelines", headers=headers, params={"refresh": "true"}
    )
    assert again.status_code == 200, again.text
    assert len(token_grants(emu, "refresh_token")) == 1
    assert (await backend.status(headers))["state"] == "connected"
