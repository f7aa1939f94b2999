"""The `foryou` command line, run as a real process against a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from backend_support import Backend, amo_user, connect
from foryou.integrations.amocrm.models import AmoCrmConnection
from sqlalchemy import select

from scripts.harness_constants import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENCRYPTION_KEY_1,
    ENCRYPTION_KEY_2,
    JWT_SECRET,
    REDIRECT_URI,
)


def run_cli(
    database_url: str,
    *args: str,
    keys: str | None = None,
    stdin: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        **(extra_env or {}),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "FORYOU_DATABASE_URL": database_url,
        "FORYOU_JWT_SECRET": JWT_SECRET,
        "FORYOU_ENCRYPTION_KEYS": keys or f"k1:{ENCRYPTION_KEY_1}",
        "FORYOU_PASSWORD_HASH_TIME_COST": "1",
        "FORYOU_PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    return subprocess.run(
        [sys.executable, "-m", "foryou", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        input=stdin,
        cwd=Path(__file__).parent,
    )


def test_db_upgrade_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    result = run_cli(url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout
    assert oct((tmp_path / "fresh.sqlite3").stat().st_mode & 0o777) == "0o600"
    again = run_cli(url, "db", "upgrade")
    assert again.returncode == 0


def test_openapi_prints_the_document(tmp_path: Path) -> None:
    result = run_cli(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'o.sqlite3'}", "openapi")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert "/api/v1/integrations/amo-crm/status" in document["paths"]
    assert not (tmp_path / "data").exists(), "printing the document must not create files"


async def test_users_create_then_login(backend: Backend, database_url: str) -> None:
    result = run_cli(
        database_url,
        "users", "create", "--email", "Broker@Foryou.test", "--password", "long enough pw",
        "--role", "broker", "--name", "Olena",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "long enough pw" not in result.stdout + result.stderr
    headers = await backend.login("broker@foryou.test", "long enough pw")
    me = (await backend.client.get("/api/v1/auth/me", headers=headers)).json()["data"]
    assert me["role"] == "BROKER"
    assert me["name"] == "Olena"
    duplicate = run_cli(
        database_url, "users", "create", "--email", "broker@foryou.test",
        "--password", "long enough pw",
    )  # fmt: skip
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "client"], "invalid --role"),
        (["--password", "short"], "invalid --password"),
    ],
)
def test_users_create_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    base = ["users", "create", "--email", "x@foryou.test", "--password", "long enough pw"]
    result = run_cli(f"sqlite+aiosqlite:///{tmp_path / 'u.sqlite3'}", *base, *args)
    assert result.returncode == 2
    assert message in result.stderr


async def test_connections_list_and_keys_rotate(
    make_backend: Any, emu: Any, database_url: str
) -> None:
    backend = await make_backend()
    headers = await backend.new_broker()
    await connect(backend, emu, headers, amo_user(emu))
    listed = run_cli(database_url, "connections", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["status"] == "active"
    assert row["domain"] == "reforyou.amocrm.ru"
    assert "token" not in json.dumps(row).lower().replace("access_expires_at", "")

    rotated = run_cli(
        database_url, "keys", "rotate", keys=f"k2:{ENCRYPTION_KEY_2},k1:{ENCRYPTION_KEY_1}"
    )
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 1 connection(s) with key k2" in rotated.stdout
    async with backend.services.db.transaction() as session:
        [connection] = (await session.execute(select(AmoCrmConnection))).scalars()
    assert connection.token_key_id == "k2"
    # A backend that knows only the new key still uses the connection.
    only_new = await make_backend(encryption_keys=f"k2:{ENCRYPTION_KEY_2}")
    token = await only_new.services.tokens.usable_token(connection.user_id)
    assert token.access_token.startswith("eyJ")


async def test_agency_connection_set_show_connections_by_state_and_block(
    backend: Backend, emu: Any, database_url: str
) -> None:
    amocrm = {
        "FORYOU_AMOCRM_CLIENT_ID": CLIENT_ID,
        "FORYOU_AMOCRM_CLIENT_SECRET": CLIENT_SECRET,
        "FORYOU_AMOCRM_REDIRECT_URI": REDIRECT_URI,
        "FORYOU_AMOCRM_UPSTREAM_URL": emu.base_url,
    }
    minted = emu.control.long_lived_token(amo_user(emu, "admin")["id"], days=30)
    refused = run_cli(
        database_url, "agency-connection", "set", "--domain", "reforyou.amocrm.ru",
        "--token-file", "-", stdin="not-a-token\n", extra_env=amocrm,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "agency_token_invalid" in refused.stderr
    stored = run_cli(
        database_url, "agency-connection", "set", "--domain", "reforyou.amocrm.ru",
        "--token-file", "-", stdin=minted.token + "\n", extra_env=amocrm,
    )  # fmt: skip
    assert stored.returncode == 0, stored.stderr
    shown = run_cli(database_url, "agency-connection", "show", extra_env=amocrm)
    assert "health: active" in shown.stdout
    assert f"token_last4: {minted.token[-4:]}" in shown.stdout
    for output in (stored, shown):
        assert minted.token not in output.stdout + output.stderr

    email, _ = await backend.create_user()
    headers = await backend.login(email)
    await connect(backend, emu, headers, amo_user(emu))
    await backend.create_user()
    listed = run_cli(database_url, "connections", "list", "--json", "--state", "never_connected")
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["status"] for line in listed.stdout.splitlines()] == [
        "never_connected"
    ]
    assert "read 1/1" in listed.stderr
    blocked = run_cli(database_url, "users", "block", email.upper())
    assert blocked.returncode == 0, blocked.stderr
    assert f"{email}: BLOCKED" in blocked.stdout
    assert (await backend.client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    unknown = run_cli(database_url, "users", "block", "nobody@foryou.test")
    assert unknown.returncode == 1
