"""Rate limit and block, injected faults, request log, disable hook, persistence, CLI."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from amocrm_emulator.testing import (
    EmulatorError,
    Integration,
    RunningEmulator,
    amo_async_client,
    start_emulator,
)
from emu_support import bearer, refresh

from scripts.harness_constants import (
    ACCOUNT_ID,
    AMO_API,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
)

INTEGRATION = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT_URI}


# ---- rate limit --------------------------------------------------------------------------
async def _burst(emu: RunningEmulator, headers: dict[str, str], count: int) -> list[httpx.Response]:
    """`count` AMO_API requests sent at once, so they land within the same second."""
    async with amo_async_client(emu.base_url, timeout=30.0) as http:
        return list(
            await asyncio.gather(
                *(http.get(f"{AMO_API}/account", headers=headers) for _ in range(count))
            )
        )


async def test_more_than_7_rps_gets_429_with_retry_after() -> None:
    with start_emulator(**INTEGRATION) as emu, emu.client() as client:
        headers = bearer(emu.token_for("broker1@reforyou.example"))
        answers = await _burst(emu, headers, 20)
        allowed = sum(1 for r in answers if r.status_code == 200)
        limited = [r for r in answers if r.status_code == 429]
        # 7 at once; one more may pass if the burst itself spans more than 1/7 s.
        assert 7 <= allowed <= 8
        assert len(limited) == 20 - allowed
        answer = limited[0]
        assert int(answer.headers["Retry-After"]) >= 1
        body = answer.json()
        assert body["status"] == 429
        assert body["retry_after"] >= 1
        assert body["title"] == "Too Many Requests"
        await asyncio.sleep(1.1)
        assert client.get(f"{AMO_API}/account", headers=headers).status_code == 200
        # The token endpoint is not limited: refreshes are never throttled.
        tokens = emu.token_for("broker1@reforyou.example")
        assert refresh(client, tokens["refresh_token"]).status_code == 200


async def test_repeated_violations_block_the_account_with_html_403() -> None:
    with start_emulator(**INTEGRATION, rate_limit=2) as emu, emu.client() as client:
        emu.control.settings(block_after=5, block_seconds=1.5)
        headers = bearer(emu.token_for("broker1@reforyou.example"))
        answers = await _burst(emu, headers, 12)
        statuses = [r.status_code for r in answers]
        # 2 pass, the next 4 get 429, the 5th rejection blocks the account: 403 from then on.
        assert statuses.count(200) in (2, 3)
        assert statuses.count(429) == 4
        assert statuses.count(403) == 12 - 4 - statuses.count(200)
        blocked = next(r for r in answers if r.status_code == 403)
        assert blocked.headers["content-type"].startswith("text/html")
        assert "403 Forbidden" in blocked.text
        assert int(blocked.headers["Retry-After"]) >= 1
        # Other accounts are not blocked.
        kommo = client.get(
            "https://foryouglobal.kommo.com/api/v4/account", headers={"Authorization": "Bearer x"}
        )
        assert kommo.status_code == 401
        await asyncio.sleep(1.6)
        assert client.get(f"{AMO_API}/account", headers=headers).status_code == 200


def test_rate_limit_switch_at_runtime(emu: RunningEmulator, client: httpx.Client) -> None:
    headers = bearer(emu.token_for("broker1@reforyou.example"))
    emu.control.settings(rate_limit=1)
    answers = [client.get(f"{AMO_API}/account", headers=headers).status_code for _ in range(5)]
    assert 429 in answers


# ---- faults ---------------------------------------------------------------------------------
def test_status_fault_hits_the_next_n_matching_requests(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    emu.control.fault("/oauth2/access_token", method="POST", count=2, status=503)
    assert refresh(client, tokens["refresh_token"]).status_code == 503
    assert refresh(client, tokens["refresh_token"]).status_code == 503
    assert refresh(client, tokens["refresh_token"]).status_code == 200
    assert emu.control.faults() == []


def test_delay_fault(emu: RunningEmulator, client: httpx.Client) -> None:
    headers = bearer(emu.token_for("broker1@reforyou.example"))
    emu.control.fault("/api/v4/account", delay=0.6)
    started = time.monotonic()
    assert client.get(f"{AMO_API}/account", headers=headers).status_code == 200
    assert time.monotonic() - started >= 0.6
    emu.control.fault("/api/v4/account", delay=2)
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"{AMO_API}/account", headers=headers, timeout=0.5)


def test_dropped_connection(emu: RunningEmulator, client: httpx.Client) -> None:
    headers = bearer(emu.token_for("broker1@reforyou.example"))
    emu.control.fault("/api/v4/leads", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{AMO_API}/leads", headers=headers)
    assert client.get(f"{AMO_API}/leads", headers=headers).status_code == 200
    statuses = [r["status"] for r in emu.control.requests(path="/api/v4/leads")]
    assert statuses == [None, 200]


def test_after_processing_fault_rotates_tokens_then_loses_the_answer(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    tokens = emu.token_for("broker1@reforyou.example")
    emu.control.fault("/oauth2/access_token", drop=True, after_processing=True)
    with pytest.raises(httpx.RemoteProtocolError):
        refresh(client, tokens["refresh_token"])
    # The refresh happened: the old refresh token is spent.
    again = refresh(client, tokens["refresh_token"])
    assert again.status_code == 401
    assert again.json()["hint"] == "Token has been revoked"


def test_fault_matching_by_host_and_prefix(emu: RunningEmulator, client: httpx.Client) -> None:
    headers = bearer(emu.token_for("broker1@reforyou.example"))
    emu.control.fault("/api/v4/*", host="foryouglobal.kommo.com", status=500)
    assert client.get(f"{AMO_API}/account", headers=headers).status_code == 200
    emu.control.clear_faults()
    emu.control.fault("/api/v4/*", status=502, count=1)
    assert client.get(f"{AMO_API}/leads", headers=headers).status_code == 502


@pytest.mark.parametrize(
    "body",
    [
        {"path": "no-slash", "status": 500},
        {"path": "/x"},
        {"path": "/x", "status": 99},
        {"path": "/x", "count": 0, "status": 500},
        {"path": "/x", "delay": -1},
    ],
)
def test_bad_fault_definitions_are_refused(emu: RunningEmulator, body: dict[str, Any]) -> None:
    answer = httpx.post(f"{emu.base_url}/_emulator/faults", json=body)
    assert answer.status_code == 400


# ---- request log ----------------------------------------------------------------------------
def test_request_log_records_and_masks(emu: RunningEmulator, client: httpx.Client) -> None:
    emu.control.clear_requests()
    tokens = emu.token_for("broker1@reforyou.example")
    refresh(client, tokens["refresh_token"])
    client.get(
        f"https://www.amocrm.ru/oauth?client_id={CLIENT_ID}&state=secret-state&code=should-not-show"
    )
    log = emu.control.requests()
    grants = [r["grant_type"] for r in log if r["path"] == "/oauth2/access_token"]
    assert grants == ["authorization_code", "refresh_token"]
    token_row = next(r for r in log if r["path"] == "/oauth2/access_token")
    assert token_row["host"] == "reforyou.amocrm.ru"
    assert token_row["method"] == "POST"
    assert token_row["status"] == 200
    assert token_row["account_subdomain"] == "reforyou"
    consent_row = [r for r in log if r["path"] == "/oauth"][-1]
    assert "secret-state" not in consent_row["query"]
    assert "should-not-show" not in consent_row["query"]
    assert CLIENT_ID in consent_row["query"]
    dump = httpx.get(f"{emu.base_url}/_emulator/requests").text
    for secret in (tokens["access_token"], tokens["refresh_token"], CLIENT_SECRET):
        assert secret not in dump
    assert emu.control.requests(grant_type="refresh_token")[0]["grant_type"] == "refresh_token"
    emu.control.clear_requests()
    assert emu.control.requests() == []


# ---- disable hook ---------------------------------------------------------------------------
class _HookHandler(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict[str, str], str]]] = []

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        self.received.append((urlsplit(self.path).path, query, self.headers["User-Agent"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def hook_server() -> Iterator[str]:
    _HookHandler.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HookHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/disabled"
    finally:
        server.shutdown()
        server.server_close()


def test_disable_hook_is_signed_and_revokes_tokens(
    emu: RunningEmulator, client: httpx.Client, hook_server: str
) -> None:
    emu.control.register_integration(
        "hooked-client", "hooked-secret", REDIRECT_URI, disable_hook_url=hook_server
    )
    hooked = Integration("hooked-client", "hooked-secret", REDIRECT_URI)
    tokens = emu.token_for("broker1@reforyou.example", integration=hooked)
    assert emu.control.send_disable_hook("hooked-client", ACCOUNT_ID) == {"status": 200}
    path, query, agent = _HookHandler.received[0]
    assert path == "/hooks/disabled"
    assert query["account_id"] == str(ACCOUNT_ID)
    assert query["client_uuid"] == "hooked-client"
    expected = hmac.new(
        b"hooked-secret", f"hooked-client|{ACCOUNT_ID}".encode(), hashlib.sha256
    ).hexdigest()
    assert query["signature"] == expected
    assert agent == "amoService-oAuth-Code-Sender/1.0"
    assert client.get(f"{AMO_API}/account", headers=bearer(tokens)).status_code == 401


def test_disable_hook_errors(emu: RunningEmulator) -> None:
    with pytest.raises(EmulatorError, match="404"):
        emu.control.send_disable_hook("nope", ACCOUNT_ID)
    with pytest.raises(EmulatorError, match="409"):
        emu.control.send_disable_hook(CLIENT_ID, ACCOUNT_ID)


# ---- clock, reset, integrations ----------------------------------------------------------------
def test_clock_controls(emu: RunningEmulator) -> None:
    before = emu.control.clock()
    after = emu.control.advance_clock(3600)
    assert after["offset"] == before["offset"] + 3600
    assert emu.control.set_clock_offset(-5)["offset"] == -5
    answer = httpx.post(f"{emu.base_url}/_emulator/clock", json={"advance": "soon"})
    assert answer.status_code == 400


def test_reset_restores_seed_and_keeps_flag_integrations(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    headers = bearer(emu.token_for("broker1@reforyou.example"))
    client.post(f"{AMO_API}/leads", headers=headers, json=[{"name": "временная"}])
    emu.control.register_integration("temp-client", "temp-secret", REDIRECT_URI)
    emu.control.reset()
    assert client.get(f"{AMO_API}/account", headers=headers).status_code == 401
    assert emu.code_for("broker1@reforyou.example")
    page = client.get("https://www.amocrm.ru/oauth?client_id=temp-client")
    assert page.status_code == 400


def test_seeded_users_listing(emu: RunningEmulator) -> None:
    users = emu.control.users()
    brokers = emu.control.users(role="broker", account_subdomain="reforyou")
    admins = emu.control.users(role="admin", account_subdomain="reforyou")
    assert len(brokers) >= 8
    assert len(admins) == 1
    assert {u["base_domain"] for u in users} == {"amocrm.ru", "kommo.com"}
    assert all(u["account_id"] == ACCOUNT_ID for u in brokers)


def test_control_endpoints_do_not_exist_without_control_flag() -> None:
    command = [sys.executable, "-m", "amocrm_emulator", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = ""
        while not line.startswith("amocrm-emulator listening on "):
            line = process.stdout.readline()
            assert line, "the emulator exited"
        base = line.split(" on ", 1)[1].strip()
        answer = httpx.get(f"{base}/_emulator/users")
        assert answer.status_code == 404
        assert "password" not in answer.text
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


@pytest.mark.parametrize(
    "args",
    [
        ["--client-id", "x"],
        ["--refresh-reuse", "sometimes"],
        ["--rate-limit", "-1"],
        ["--port", "70000"],
        ["--disable-hook-url", "http://x"],
    ],
)
def test_cli_rejects_bad_flags(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "amocrm_emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "amocrm-emulator" in done.stderr


def test_console_script_and_help() -> None:
    script = Path(sys.executable).parent / "amocrm-emulator"
    assert script.exists()
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0
    for flag in (
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--disable-hook-url",
        "--refresh-reuse",
        "--rate-limit",
        "--seed",
        "--state-file",
        "--control",
    ):
        assert flag in done.stdout


def test_startup_is_fast_and_prints_logins() -> None:
    started = time.monotonic()
    with start_emulator() as emu:
        elapsed = time.monotonic() - started
        output = "\n".join(emu.output)
    assert "broker1@reforyou.example / broker1-pass" in output
    assert "admin@reforyou.example / admin-pass" in output
    assert elapsed < 10.0  # about 1 s on an idle 2-core machine; headroom for a busy one


# ---- persistence ------------------------------------------------------------------------------
def test_state_file_survives_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "amocrm.json"
    with start_emulator(**INTEGRATION, state_file=state_file) as emu, emu.client() as client:
        tokens = emu.token_for("broker1@reforyou.example")
        created = client.post(
            f"{AMO_API}/leads", headers=bearer(tokens), json=[{"name": "Переживёт рестарт"}]
        ).json()
        lead_id = created["_embedded"]["leads"][0]["id"]
        time.sleep(1.5)  # the state is written within a second of a change
    assert state_file.exists()
    with start_emulator(**INTEGRATION, state_file=state_file) as emu, emu.client() as client:
        lead = client.get(f"{AMO_API}/leads/{lead_id}", headers=bearer(tokens))
        assert lead.status_code == 200
        assert lead.json()["name"] == "Переживёт рестарт"
        assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_extra_brokers_join_reforyou_and_keep_the_seeded_users() -> None:
    from amocrm_emulator.state.seed import build_seed_state, seeded_logins

    plain = seeded_logins(build_seed_state(1))
    wider = seeded_logins(build_seed_state(1, 41))
    assert [row for row in wider if row["login"] in {r["login"] for r in plain}] == plain
    extra = [row for row in wider if row not in plain]
    assert len(extra) == 41
    assert {row["role"] for row in extra} == {"broker"}
    assert {row["account_subdomain"] for row in extra} == {"reforyou"}
    assert extra[0]["login"] == "broker10@reforyou.example"
    assert extra[0]["password"] == "broker10-pass"
    state = build_seed_state(1, 41)
    owners = {lead.responsible_user_id for lead in state.leads.values()}
    # Leads are dealt at random by share: nearly every extra broker has some.
    assert sum(row["id"] in owners for row in extra) >= 35


def test_seed_is_deterministic() -> None:
    from amocrm_emulator.state.seed import build_seed_state

    assert build_seed_state(7).to_json() == build_seed_state(7).to_json()
    assert build_seed_state(7).to_json() != build_seed_state(8).to_json()
    state = build_seed_state(7)
    leads = [lead for lead in state.leads.values() if lead.account_id == ACCOUNT_ID]
    assert len(leads) >= 300
    contact = state.contacts[leads[0].contact_ids[0]]
    codes = {v["field_code"] for v in contact.custom_fields_values or []}
    assert {"PHONE", "EMAIL"} <= codes
    assert any(lead.tag_ids for lead in leads)
    assert any(note.entity_id == leads[0].id for note in state.notes.values()) or state.notes
