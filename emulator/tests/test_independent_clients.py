"""Independent clients, unmodified, against the emulator: Authlib's OAuth 2.0 client and the
`aioamocrm` library from PyPI. Both reach the real amoCRM host names through the emulator's
host-rewriting transport, the way an application's HTTP client would be configured."""

from __future__ import annotations

import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aioamocrm import AmoCRMClient, NotFoundError, OAuth2
from amocrm_emulator.testing import AmoHostTransport, RunningEmulator, amo_async_client, consent
from authlib.deprecate import AuthlibDeprecationWarning

from scripts.harness_constants import (
    ACCOUNT_HOST,
    ACCOUNT_ID,
    AMO_API,
    BROKER1_ID,
    BROKER9_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    SEEDED_PASSWORDS,
    TOKEN_URL,
)

with warnings.catch_warnings():
    # Authlib 1.9 prefers the `httpx2` package and warns when it falls back to httpx, which
    # is the HTTP client this project uses; the client code itself is the same.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client


def authlib_client(emu: RunningEmulator, **kwargs: Any) -> OAuth2Client:
    return OAuth2Client(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        token_endpoint_auth_method="client_secret_post",
        transport=AmoHostTransport(emu.base_url),
        **kwargs,
    )


# ---- Authlib ---------------------------------------------------------------------------------
def test_authlib_code_exchange_and_api_call(emu: RunningEmulator) -> None:
    with authlib_client(emu) as client:
        url, _ = client.create_authorization_url(
            "https://www.amocrm.ru/oauth", state="authlib-state", mode="post_message"
        )
        location = consent(
            url, "broker1@reforyou.example", SEEDED_PASSWORDS["broker1@reforyou.example"]
        )
        token = client.fetch_token(
            TOKEN_URL, authorization_response=location, state="authlib-state"
        )
        assert token["token_type"] == "Bearer"
        assert token["expires_at"] > time.time()
        account = client.get(f"{AMO_API}/account")
        assert account.status_code == 200
        assert account.json()["current_user_id"] == BROKER1_ID


def test_authlib_refresh_rotates_and_the_old_token_is_refused(emu: RunningEmulator) -> None:
    with authlib_client(emu) as client:
        client.fetch_token(TOKEN_URL, code=emu.code_for("broker1@reforyou.example"))
        first = dict(client.token)
        rotated = client.refresh_token(TOKEN_URL)
        assert rotated["refresh_token"] != first["refresh_token"]
        assert rotated["access_token"] != first["access_token"]
        assert client.get(f"{AMO_API}/account").status_code == 200
        second = client.refresh_token(TOKEN_URL)
        assert second["refresh_token"] != rotated["refresh_token"]

    # amoCRM's refusal is problem+json without RFC 6749's `error` member, so Authlib does not
    # raise; the answer it gets is amoCRM's 401 "Token has been revoked".
    with authlib_client(emu) as replay:
        answer = replay.refresh_token(TOKEN_URL, refresh_token=first["refresh_token"])
        assert "access_token" not in answer
        assert answer["status"] == 401
        assert answer["hint"] == "Token has been revoked"


def test_authlib_refreshes_automatically_when_the_token_expires(emu: RunningEmulator) -> None:
    saved: list[dict[str, Any]] = []

    def update_token(
        token: dict[str, Any], refresh_token: str | None = None, access_token: str | None = None
    ) -> None:
        saved.append(dict(token))

    with authlib_client(emu, token_endpoint=TOKEN_URL, update_token=update_token) as client:
        client.fetch_token(TOKEN_URL, code=emu.code_for("broker1@reforyou.example"))
        emu.control.advance_clock(86_400 + 60)  # the server's clock: the token is dead there
        client.token["expires_at"] = int(time.time()) - 1  # and the client knows it expired
        answer = client.get(f"{AMO_API}/account")
        assert answer.status_code == 200
        assert len(saved) == 1
        assert saved[0]["access_token"] == client.token["access_token"]


# ---- aioamocrm -------------------------------------------------------------------------------
@asynccontextmanager
async def aioamocrm_on_account(
    emu: RunningEmulator, auth: OAuth2 | None = None
) -> AsyncIterator[AmoCRMClient]:
    """An aioamocrm client of the reforyou account on its real host, reaching the emulator."""
    async with (
        amo_async_client(emu.base_url) as http,
        AmoCRMClient(
            base_url=f"https://{ACCOUNT_HOST}",
            auth=auth if auth is not None else OAuth2(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI),
            http=http,
            rate_limit=None,
        ) as amo,
    ):
        yield amo


async def test_aioamocrm_account_leads_pagination_and_204(emu: RunningEmulator) -> None:
    async with aioamocrm_on_account(emu) as amo:
        await amo.exchange_code(emu.code_for("broker1@reforyou.example"))
        account = await amo.account.get()
        assert account.id == ACCOUNT_ID
        first_page = await amo.leads.get_page(limit=10)
        assert len(first_page) == 10
        assert first_page.has_next
        leads = [lead async for lead in amo.leads.iterate(limit=10)]
        assert len(leads) > 10
        assert {lead.responsible_user_id for lead in leads} == {BROKER1_ID}
        assert len({lead.id for lead in leads}) == len(leads)
        with pytest.raises(NotFoundError):
            await amo.leads.get(1)
        pipelines = await amo.pipelines.list()
        assert {p.name for p in pipelines} == {"Real Estate", "Партнеры", "Vladimir Team"}

    # Followed `_links.next` pages are the emulator's: every page request was a real request.
    pages = [r for r in emu.control.requests(path="/api/v4/leads") if r["status"] == 200]
    assert len(pages) >= 2

    async with aioamocrm_on_account(emu) as amo:
        await amo.exchange_code(emu.code_for("broker9@reforyou.example"))
        empty = await amo.leads.get_page()
        assert len(empty) == 0
        assert not empty.has_next
        assert [lead async for lead in amo.leads.iterate()] == []
        assert (await amo.account.get()).current_user_id == BROKER9_ID


async def test_aioamocrm_refreshes_on_expiry(emu: RunningEmulator) -> None:
    auth = OAuth2(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    async with aioamocrm_on_account(emu, auth) as amo:
        first = await amo.exchange_code(emu.code_for("broker1@reforyou.example"))
        emu.control.expire_tokens(BROKER1_ID)
        emu.control.clear_requests()
        account = await amo.account.get()
        assert account.id == ACCOUNT_ID
        log = emu.control.requests()
        assert [(r["path"], r["status"]) for r in log] == [
            ("/api/v4/account", 401),
            ("/oauth2/access_token", 200),
            ("/api/v4/account", 200),
        ]
        assert log[1]["grant_type"] == "refresh_token"
        current = await auth.storage.load()
        assert current is not None
        assert current.refresh_token != first.refresh_token


async def test_aioamocrm_through_the_loopback_address(emu: RunningEmulator) -> None:
    """Pointing `base_url` at the emulator itself works too (the loopback host is reforyou)."""
    auth = OAuth2(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    async with AmoCRMClient(base_url=emu.base_url, auth=auth, rate_limit=None) as amo:
        await amo.exchange_code(emu.code_for("broker1@reforyou.example"))
        leads = [lead async for lead in amo.leads.iterate(limit=50)]
        assert leads
        assert all(lead.responsible_user_id == BROKER1_ID for lead in leads)


def test_consent_helper_reaches_the_emulator_started_last(emu: RunningEmulator) -> None:
    location = consent(
        f"https://www.amocrm.ru/oauth?client_id={CLIENT_ID}&state=z",
        "broker2@reforyou.example",
        SEEDED_PASSWORDS["broker2@reforyou.example"],
    )
    assert location.startswith(REDIRECT_URI)
    assert httpx.URL(location).params["referer"] == ACCOUNT_HOST


async def test_aioamocrm_edits_leads_adds_notes_and_completes_tasks(emu: RunningEmulator) -> None:
    async with aioamocrm_on_account(emu) as amo:
        await amo.exchange_code(emu.code_for("broker1@reforyou.example"))
        lead = (await amo.leads.get_page(limit=1)).items[0]
        refs = await amo.leads.update([{"id": lead.id, "price": 4_200_000}])
        assert [ref.id for ref in refs] == [lead.id]
        assert (await amo.leads.get(lead.id)).price == 4_200_000
        await amo.leads.notes.create(
            [{"entity_id": lead.id, "note_type": "common", "params": {"text": "Позвонить"}}]
        )
        notes = await amo.leads.notes.get_page(entity_id=lead.id)
        assert any((note.params or {}).get("text") == "Позвонить" for note in notes)
        (task_ref,) = await amo.tasks.create(
            [
                {
                    "text": "Показ",
                    "complete_till": 1_800_000_000,
                    "entity_type": "leads",
                    "entity_id": lead.id,
                }
            ]
        )
        done = await amo.tasks.complete(task_ref.id, result="Показ прошёл")
        assert done.id == task_ref.id
        task = await amo.tasks.get(task_ref.id)
        assert task.is_completed
