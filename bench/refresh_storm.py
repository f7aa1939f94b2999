"""Refresh storm, side by side: our backend vs aioamocrm vs Authlib, 4 processes each.

The same work for every contender: 10 brokers (every seeded amoCRM user of the account, since
one amoCRM user links to one ForYou user) whose access tokens have expired (our own record
of the expiry says so, and the emulator has expired them too), then 200 requests at once,
spread so that every broker's requests reach all 4 processes. The emulator runs in strict
mode: a refresh token works once, as amoCRM.ru documents. Its request log counts the refresh
grants; the clients count failed requests; afterwards every broker's stored tokens are tried,
and a broker whose tokens no longer work has lost the connection (they must reconnect by hand).

Rate limits are lifted on every side (emulator and ours) so that only refresh discipline is
measured: 10 brokers share the one seeded account and 200 calls in a second would otherwise
meet amoCRM's 7 rps, which the rate-limit benchmark measures on its own.

* ours: `foryou serve --workers 4` (SQLite and PostgreSQL), the requests are
  `GET /api/v1/crm/pipelines` of the 10 app users, each connected through the real flow.
* aioamocrm 0.1.1: one `AmoCRMClient` + `OAuth2` per broker per process, tokens shared
  through its `JsonFileTokenStorage`, requests `GET /api/v4/account`.
* Authlib: one `AsyncOAuth2Client` per broker per process with an `update_token` callback
  writing the shared file, requests `GET /api/v4/account`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from amocrm_emulator.testing import RunningEmulator

from bench.backend import database, run_backend
from bench.common import (
    CLIENT_SECRET,
    POSTGRES_URL,
    emulator,
    print_table,
    run_workers,
    write_result,
)
from scripts.harness_constants import ACCOUNT_HOST, AMO, API, CLIENT_ID, REDIRECT_URI

BROKERS = 10
REQUESTS = 200
PROCESSES = 4


def amo_logins(emu: RunningEmulator) -> list[str]:
    """The seeded amoCRM users of the default account, one per broker (an amoCRM user links to
    one ForYou user)."""
    return [u["login"] for u in emu.control.users(account_subdomain="reforyou")]


def refresh_grants(emu: RunningEmulator) -> list[dict[str, Any]]:
    return emu.control.requests(path="/oauth2/access_token", grant_type="refresh_token")


def expire_at_amocrm(emu: RunningEmulator) -> None:
    for user in emu.control.users(account_subdomain="reforyou"):
        emu.control.expire_tokens(user["id"])


def summarize(
    label: str, emu: RunningEmulator, outcomes: dict[str, int], lost: int, seconds: float
) -> dict[str, Any]:
    grants = refresh_grants(emu)
    failed = sum(count for outcome, count in outcomes.items() if outcome != "200")
    return {
        "contender": label,
        "refresh_calls": len(grants),
        "refresh_calls_refused": sum(1 for g in grants if g["status"] != 200),
        "requests": sum(outcomes.values()),
        "failed_requests": failed,
        "connections_lost": lost,
        "seconds": round(seconds, 2),
        "outcomes": outcomes,
    }


# ---- the libraries ---------------------------------------------------------------------------
def tokens_still_work(emu: RunningEmulator, saved: dict[str, Any]) -> bool:
    """Whether a broker's stored token set still gives access: the access token, or else one
    refresh with the stored refresh token."""
    access = saved.get("access_token")
    refresh = saved.get("refresh_token")
    if not isinstance(access, str) or not isinstance(refresh, str):
        return False
    with emu.client(timeout=10) as client:
        headers = {"Authorization": f"Bearer {access}"}
        if client.get(f"https://{ACCOUNT_HOST}/api/v4/account", headers=headers).is_success:
            return True
        answer = client.post(
            f"https://{ACCOUNT_HOST}/oauth2/access_token",
            json={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "redirect_uri": REDIRECT_URI,
            },
        )
        return answer.status_code == 200


def measure_library(impl: str, label: str) -> dict[str, Any]:
    with emulator(rate_limit=0) as emu, tempfile.TemporaryDirectory() as state_dir:
        logins = amo_logins(emu)
        for broker in range(BROKERS):
            tokens = emu.token_for(logins[broker % len(logins)])
            # Expired in the client's own record, so the library refreshes before calling.
            saved = {
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "token_type": "Bearer",
                "expires_at": time.time() - 60,
            }
            (Path(state_dir) / f"broker-{broker}.json").write_text(json.dumps(saved))
        expire_at_amocrm(emu)
        emu.control.clear_requests()
        start_at = time.time() + 3.0
        commands = [
            [
                "-m",
                "bench.refresh_storm_worker",
                "--impl",
                impl,
                "--emulator",
                emu.base_url,
                "--state-dir",
                state_dir,
                "--brokers",
                str(BROKERS),
                "--requests",
                str(REQUESTS),
                "--processes",
                str(PROCESSES),
                "--index",
                str(index),
                "--start-at",
                str(start_at),
            ]
            for index in range(PROCESSES)
        ]
        results = run_workers(commands, timeout=180)
        seconds = time.time() - start_at
        outcomes: dict[str, int] = {}
        for result in results:
            for outcome, count in result["outcomes"].items():
                outcomes[outcome] = outcomes.get(outcome, 0) + count
        grants_during_storm = summarize(label, emu, outcomes, 0, seconds)
        lost = 0
        for broker in range(BROKERS):
            try:
                saved = json.loads((Path(state_dir) / f"broker-{broker}.json").read_text())
            except (OSError, ValueError):
                lost += 1
                continue
            if not tokens_still_work(emu, saved):
                lost += 1
    grants_during_storm["connections_lost"] = lost
    return grants_during_storm


# ---- ours --------------------------------------------------------------------------------------
def expire_in_our_database(database_url: str) -> None:
    """Our record of every access token's expiry moved into the past (the storm's premise)."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1]
        with sqlite3.connect(path) as connection:
            connection.execute(
                "UPDATE amocrm_connections SET access_expires_at = '2000-01-01 00:00:00.000000'"
            )
        return
    import asyncpg

    async def update() -> None:
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(
                "UPDATE amocrm_connections SET access_expires_at = '2000-01-01 00:00:00+00'"
            )
        finally:
            await connection.close()

    asyncio.run(update())


async def storm(base_url: str, headers: list[dict[str, str]]) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    limits = httpx.Limits(max_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:

        async def one(index: int) -> None:
            try:
                response = await client.get(
                    f"{API}/crm/pipelines", headers=headers[index % BROKERS]
                )
                outcome = str(response.status_code)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

        await asyncio.gather(*(one(index) for index in range(REQUESTS)))
    return outcomes


def measure_ours(kind: str) -> dict[str, Any]:
    label = f"ours: foryou serve --workers {PROCESSES} ({kind})"
    with (
        emulator(rate_limit=0) as emu,
        database(kind) as database_url,
        run_backend(
            database_url,
            emu,
            workers=PROCESSES,
            FORYOU_AMOCRM_RATE_LIMIT="50",
            FORYOU_AMOCRM_MAX_QUEUE_WAIT_SECONDS="30",
        ) as api,
    ):
        logins = amo_logins(emu)
        headers = []
        for broker in range(BROKERS):
            email = f"storm.broker{broker}@foryou.example"
            api.create_broker(email)
            headers.append(api.login(email))
            api.connect(emu, headers[-1], logins[broker % len(logins)])
        expire_in_our_database(database_url)
        expire_at_amocrm(emu)
        emu.control.clear_requests()
        started = time.time()
        outcomes = asyncio.run(storm(api.base_url, headers))
        seconds = time.time() - started
        lost = 0
        statuses: dict[str, int] = {}
        for broker_headers in headers:
            answer = httpx.get(f"{api.base_url}{AMO}/status", headers=broker_headers, timeout=30)
            state = answer.json()["data"]["state"] if answer.status_code == 200 else "error"
            statuses[state] = statuses.get(state, 0) + 1
            if state != "connected":
                lost += 1
        result = summarize(label, emu, outcomes, lost, seconds)
    result["statuses_after"] = statuses
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench refresh_storm")
    parser.add_argument(
        "--contenders",
        default="ours-sqlite,ours-postgres,aioamocrm,authlib",
        help="comma-separated: ours-sqlite, ours-postgres, aioamocrm, authlib",
    )
    args = parser.parse_args(argv)
    rows = []
    for contender in args.contenders.split(","):
        print(f"running: {contender} ...", flush=True)
        if contender.startswith("ours-"):
            rows.append(measure_ours(contender.removeprefix("ours-")))
        elif contender == "aioamocrm":
            rows.append(measure_library("aioamocrm", "aioamocrm 0.1.1 (JsonFileTokenStorage)"))
        elif contender == "authlib":
            rows.append(measure_library("authlib", "Authlib AsyncOAuth2Client (update_token)"))
        else:
            parser.error(f"unknown contender {contender!r}")
    print_table(
        f"Refresh storm: {BROKERS} brokers with expired access tokens, {REQUESTS} requests at "
        f"once over {PROCESSES} processes, emulator in strict reuse mode",
        ["contender", "refresh calls", "refused", "failed requests", "connections lost", "s"],
        [
            [
                r["contender"],
                r["refresh_calls"],
                r["refresh_calls_refused"],
                f"{r['failed_requests']} / {r['requests']}",
                f"{r['connections_lost']} / {BROKERS}",
                r["seconds"],
            ]
            for r in rows
        ],
    )
    write_result(
        "refresh_storm",
        {
            "setup": {
                "brokers": BROKERS,
                "requests": REQUESTS,
                "processes": PROCESSES,
                "emulator_refresh_reuse": "strict",
                "rate_limits": "lifted (emulator 0, ours 50 rps)",
                "postgres": POSTGRES_URL.rsplit("@", 1)[-1],
            },
            "results": rows,
        },
    )
