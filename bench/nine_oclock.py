"""Nine o'clock: every broker of one amoCRM account opens the CRM tab within 10 seconds, 20 of
them keep it open (an event stream), and the admin changes 10 of their leads in amoCRM.

Yesterday the 50 brokers connected (each to an amoCRM user of their own: the emulator's
`reforyou` with `--extra-brokers`). Overnight the backend restarted: what its process kept in
memory is gone, the connections and tokens are not. The designs side by side, each against a
fresh emulator and a fresh `foryou serve` (one process, SQLite, in-process cache):

- webhooks + warming: an app user connected as the amoCRM admin, whose connection registered
  the account's webhook; the embedded worker warms, before nine, the first screens of the
  brokers who worked within the day (only with budget nobody is waiting for);
- webhooks, no warming: the same without warming (`FORYOU_WARM_ACTIVE_HOURS=0`);
- events poll: no admin; the embedded worker polls `GET /api/v4/events` with the token of
  each broker who follows the account now (a stream open, or a CRM request within the half
  hour); nobody follows it overnight, so nothing is warmed;
- 15 s TTL: no webhook, no poll (the design before live updates): lists live 15 s, nothing
  tells the app; the change-to-app delay is how long a broker reloading every second keeps
  seeing the old lead.

A tab open is what the app does: the pipelines, then the first page of the main pipeline's
leads (`mine=true`, 25 a page). Measured: time from the tab open to that list, amoCRM calls
per broker during the opens, 429s seen at the emulator, answers other than 200 from our API,
amoCRM calls the warming made before nine, and the delay from the admin's change (its act-as
call) to the broker's `lead.changed` event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from amocrm_emulator.testing import RunningEmulator

from bench.backend import APP_PASSWORD, Backend, database, restarted, run_backend
from bench.common import emulator, print_table, write_result
from scripts.harness_constants import API

BROKERS = 50
SEEDED_BROKERS = 9
STREAMS = 20
CHANGES = 10
OPEN_WINDOW_SECONDS = 10.0
# The poll design polls every 20 s (the default is 60 s, which cannot meet a 30 s goal).
POLL_SECONDS = 20
# Whole design bounded: a stuck request or a change never told ends the wait, not the run.
OPEN_TIMEOUT_SECONDS = 60.0
CHANGE_SPACING_SECONDS = 0.5
CONNECTING_AT_ONCE = 8
# In the morning the brokers come from fifty addresses, here from one: sign-ins are not
# throttled by address, and connects name each broker's address through a trusted proxy.
SETUP_ENV = {"FORYOU_LOGIN_ATTEMPTS_PER_ADDRESS": "10000", "FORYOU_TRUSTED_PROXIES": "127.0.0.1"}
ADMIN_EMAIL = "nine.oclock.admin@foryou.example"


@dataclass(frozen=True)
class Design:
    name: str
    label: str
    admin_connected: bool
    env: dict[str, str]
    # How long after the last change events may still arrive.
    event_wait_seconds: float
    tells_the_app: bool = True
    # Wait before nine until the worker has warmed the brokers' first screens.
    warms: bool = False


# The worker as in production (a run a minute): the first run after the restart warms.
WEBHOOK_WORKER = {
    "FORYOU_EMBEDDED_WORKER": "true",
    "FORYOU_WORKER_INTERVAL_SECONDS": "60",
    "FORYOU_EVENTS_POLL_SECONDS": "0",
}
DESIGNS = (
    Design("webhooks", "webhooks + warming", True, WEBHOOK_WORKER, 10, warms=True),
    Design(
        "webhooks_cold",
        "webhooks, no warming",
        True,
        {**WEBHOOK_WORKER, "FORYOU_WARM_ACTIVE_HOURS": "0"},
        10,
    ),
    Design(
        "events_poll",
        f"events poll every {POLL_SECONDS} s",
        False,
        {
            "FORYOU_EMBEDDED_WORKER": "true",
            "FORYOU_WORKER_INTERVAL_SECONDS": "2",
            "FORYOU_EVENTS_POLL_SECONDS": str(POLL_SECONDS),
        },
        POLL_SECONDS + 10,
    ),
    Design(
        "ttl_15s",
        "15 s TTL, no change feed",
        False,
        {"FORYOU_EVENTS_POLL_SECONDS": "0"},
        20,
        tells_the_app=False,
    ),
)
# Warming is over when amoCRM saw no read of leads or tasks for this long.
WARM_QUIET_SECONDS = 5.0
WARM_LIMIT_SECONDS = 240.0


@dataclass
class Stream:
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextlib.contextmanager
def scene(design: Design) -> Iterator[tuple[Backend, RunningEmulator, list[dict[str, str]]]]:
    """Yesterday's connections, then the backend restarted overnight."""
    with (
        emulator(extra_brokers=BROKERS - SEEDED_BROKERS) as emu,
        database("sqlite") as url,
        run_backend(url, emu, workers=1, **SETUP_ENV, **design.env) as yesterday,
    ):
        brokers = prepare(yesterday, emu, design)
        with restarted(yesterday) as api:
            yield api, emu, brokers


def warm_before_nine(emu: RunningEmulator) -> dict[str, Any]:
    """Wait until the worker's warming is over: amoCRM quiet for a while after its reads."""
    emu.control.clear_requests()
    started = time.perf_counter()
    last_count, last_change = 0, started
    while time.perf_counter() - started < WARM_LIMIT_SECONDS:
        time.sleep(1.0)
        count = sum(
            1
            for row in emu.control.requests()
            if row["path"] in ("/api/v4/leads", "/api/v4/tasks", "/api/v4/contacts")
        )
        if count != last_count:
            last_count, last_change = count, time.perf_counter()
        elif count and time.perf_counter() - last_change >= WARM_QUIET_SECONDS:
            break
    rows = emu.control.requests()
    return {
        "warm_took_seconds": round(last_change - started, 1),
        "amocrm_calls_warming": sum(1 for row in rows if row["path"].startswith("/api/v4/")),
        "amocrm_429_warming": sum(1 for row in rows if row.get("status") == 429),
    }


def prepare(api: Backend, emu: RunningEmulator, design: Design) -> list[dict[str, str]]:
    """Yesterday: every broker has an app user linked to their own amoCRM user."""
    api.cli(
        "users", "create", "--email", ADMIN_EMAIL, "--password", APP_PASSWORD, "--role", "admin"
    )
    admin_headers = api.login(ADMIN_EMAIL)
    logins = [u["login"] for u in emu.control.users(role="broker", account_subdomain="reforyou")]
    assert len(logins) >= BROKERS, f"only {len(logins)} amoCRM brokers in reforyou"
    emails = [f"broker.{n}@foryou.example" for n in range(BROKERS)]
    if design.admin_connected:
        emails.append("amocrm.admin@foryou.example")
    for email in emails:
        created = httpx.post(
            f"{api.base_url}{API}/admin/users",
            headers=admin_headers,
            json={"email": email, "name": email.split("@")[0], "password": APP_PASSWORD},
            timeout=30,
        )
        created.raise_for_status()
    if design.admin_connected:
        admin_login = emu.control.users(role="admin", account_subdomain="reforyou")[0]["login"]
        api.connect(emu, api.login(emails[-1]), admin_login)

    def connect(numbered: tuple[int, tuple[str, str]]) -> dict[str, str]:
        number, (email, login) = numbered
        headers = api.login(email)
        api.connect(emu, headers, login, forwarded_for=f"198.51.100.{number + 1}")
        return headers

    # A few at a time: connecting is not what is measured, only its result.
    pairs = list(enumerate(zip(emails[:BROKERS], logins[:BROKERS], strict=True)))
    with ThreadPoolExecutor(CONNECTING_AT_ONCE) as pool:
        return list(pool.map(connect, pairs))


async def open_stream(client: httpx.AsyncClient, headers: dict[str, str]) -> Stream:
    stream = Stream()
    opened = asyncio.Event()

    async def run() -> None:
        async with client.stream("GET", f"{API}/events/stream", headers=headers) as response:
            if response.status_code != 200:
                msg = f"stream answered {response.status_code}"
                raise RuntimeError(msg)
            opened.set()
            frame: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    continue
                if not line:
                    if frame:
                        stream.events.append((time.perf_counter(), frame))
                    frame = {}
                    continue
                name, _, value = line.partition(": ")
                frame[name] = json.loads(value) if name == "data" else value

    stream.task = asyncio.create_task(run())
    await asyncio.wait_for(opened.wait(), 10)
    return stream


async def open_tab(
    client: httpx.AsyncClient, headers: dict[str, str], delay: float
) -> dict[str, Any]:
    """The CRM tab at nine, as the app opens it: the pipelines, then the first page of the
    main pipeline's leads."""
    await asyncio.sleep(delay)
    started = time.perf_counter()
    pipelines = await client.get(f"{API}/crm/pipelines", headers=headers)
    items = pipelines.json()["data"]["items"] if pipelines.status_code == 200 else []
    main = next((p for p in items if p["isMain"]), items[0] if items else None)
    params: dict[str, Any] = {"mine": "true", "page": 1, "limit": 25}
    if main is not None:
        params["pipelineId"] = main["id"]
    leads = await client.get(f"{API}/crm/leads", headers=headers, params=params)
    leads_seconds = time.perf_counter() - started
    found = leads.json()["data"]["items"] if leads.status_code == 200 else []
    return {
        "list_seconds": leads_seconds,
        "statuses": [pipelines.status_code, leads.status_code],
        "lead_ids": [item["id"] for item in found],
        "params": params,
    }


async def until_visible(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    lead_id: int,
    name: str,
    limit: float,
    params: dict[str, Any],
) -> float | None:
    """The old design: a broker reloading the list every second; when does the change show?"""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        answer = await client.get(f"{API}/crm/leads", headers=headers, params=params)
        if answer.status_code == 200 and any(
            item["id"] == lead_id and item["name"] == name
            for item in answer.json()["data"]["items"]
        ):
            return time.perf_counter() - started
        await asyncio.sleep(1.0)
    return None


async def run_scene(
    api: Backend, emu: RunningEmulator, design: Design, brokers: list[dict[str, str]]
) -> dict[str, Any]:
    rng = random.Random(9)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=api.base_url, timeout=60, limits=limits) as client:
        emu.control.clear_requests()
        streams = [await open_stream(client, headers) for headers in brokers[:STREAMS]]
        opens_started = time.perf_counter()
        opens = await asyncio.wait_for(
            asyncio.gather(
                *(
                    open_tab(client, headers, rng.uniform(0, OPEN_WINDOW_SECONDS))
                    for headers in brokers
                )
            ),
            OPEN_TIMEOUT_SECONDS,
        )
        opens_seconds = time.perf_counter() - opens_started
        rows = emu.control.requests()
        open_calls = sum(1 for row in rows if row["path"].startswith("/api/v4/"))

        # The admin changes one lead of each of 10 brokers who keep the tab open.
        targets = [
            (index, opened["lead_ids"][0])
            for index, opened in enumerate(opens[:STREAMS])
            if opened["lead_ids"]
        ][:CHANGES]
        admin = emu.control.act_as(
            emu.control.users(role="admin", account_subdomain="reforyou")[0]["id"]
        )
        changed_at: dict[int, float] = {}
        visible: list[asyncio.Task[float | None]] = []
        for number, (index, lead_id) in enumerate(targets):
            name = f"Changed at nine {number}"
            changed_at[lead_id] = time.perf_counter()
            answer = await asyncio.to_thread(admin.update_lead, lead_id, name=name)
            assert answer.status == 200, answer.body
            if not design.tells_the_app:
                visible.append(
                    asyncio.create_task(
                        until_visible(
                            client,
                            brokers[index],
                            lead_id,
                            name,
                            design.event_wait_seconds,
                            opens[index]["params"],
                        )
                    )
                )
            await asyncio.sleep(CHANGE_SPACING_SECONDS)
        delays: list[float] = []
        missed = 0
        if design.tells_the_app:
            deadline = time.perf_counter() + design.event_wait_seconds
            pending = dict(targets)
            while pending and time.perf_counter() < deadline:
                await asyncio.sleep(0.1)
                for index, lead_id in list(pending.items()):
                    told = [
                        at
                        for at, event in streams[index].events
                        if event.get("event") == "lead.changed"
                        and event.get("data", {}).get("leadId") == lead_id
                    ]
                    if told:
                        delays.append(told[0] - changed_at[lead_id])
                        del pending[index]
            missed = len(pending)
        else:
            for seen in await asyncio.gather(*visible):
                if seen is None:
                    missed += 1
                else:
                    delays.append(seen)
        for stream in streams:
            assert stream.task is not None
            stream.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError, RuntimeError):
                await stream.task
    rows = emu.control.requests()
    list_ms = [opened["list_seconds"] * 1000 for opened in opens]
    statuses = [status for opened in opens for status in opened["statuses"]]
    return {
        "brokers": len(brokers),
        "streams": len(streams),
        "opens_took_seconds": round(opens_seconds, 1),
        "first_list_p50_ms": round(percentile(list_ms, 0.5) or 0, 0),
        "first_list_p95_ms": round(percentile(list_ms, 0.95) or 0, 0),
        "first_list_max_ms": round(max(list_ms), 0),
        "our_non_200_answers": sum(1 for status in statuses if status != 200),
        "amocrm_calls_during_opens": open_calls,
        "amocrm_calls_per_broker": round(open_calls / len(brokers), 2),
        "amocrm_calls_whole_scene": sum(1 for row in rows if row["path"].startswith("/api/v4/")),
        "amocrm_429": sum(1 for row in rows if row.get("status") == 429),
        "changes": len(targets),
        "change_to_app_ms": sorted(round(d * 1000) for d in delays),
        "change_to_app_p50_ms": round((percentile(delays, 0.5) or 0) * 1000) if delays else None,
        "change_to_app_p95_ms": round((percentile(delays, 0.95) or 0) * 1000) if delays else None,
        "changes_never_told": missed,
        "change_to_app_measures": "stream event lead.changed"
        if design.tells_the_app
        else "a reload every second shows the change",
    }


def run(design: Design) -> dict[str, Any]:
    with scene(design) as (api, emu, brokers):
        warming = warm_before_nine(emu) if design.warms else {}
        result = asyncio.run(run_scene(api, emu, design, brokers))
        return {**result, **warming}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench nine_oclock", description=__doc__)
    parser.add_argument(
        "--designs",
        default=",".join(d.name for d in DESIGNS),
        help="comma-separated: " + ", ".join(d.name for d in DESIGNS),
    )
    options = parser.parse_args(argv)
    chosen = [d for d in DESIGNS if d.name in options.designs.split(",")]
    results: dict[str, Any] = {}
    rows = []
    for design in chosen:
        started = time.perf_counter()
        results[design.name] = run(design)
        results[design.name]["design_took_seconds"] = round(time.perf_counter() - started, 1)
        row = results[design.name]
        rows.append(
            [
                design.label,
                row["first_list_p50_ms"],
                row["first_list_p95_ms"],
                row["our_non_200_answers"],
                row["amocrm_calls_per_broker"],
                row["amocrm_429"],
                row["change_to_app_p50_ms"] if row["change_to_app_p50_ms"] is not None else "-",
                row["change_to_app_p95_ms"] if row["change_to_app_p95_ms"] is not None else "-",
                f"{row['changes_never_told']}/{row['changes']}",
                row.get("amocrm_calls_warming", "-"),
            ]
        )
    print_table(
        f"Nine o'clock: {BROKERS} brokers open the CRM tab within {OPEN_WINDOW_SECONDS:.0f} s, "
        f"{STREAMS} keep a stream open, the admin changes {CHANGES} leads",
        [
            "design",
            "list p50 ms",
            "list p95 ms",
            "non-200",
            "amoCRM calls/broker",
            "429s",
            "change→app p50 ms",
            "p95 ms",
            "not told",
            "warming calls before nine",
        ],
        rows,
    )
    write_result(
        "nine_oclock",
        {
            "description": __doc__,
            "setup": {
                "brokers": BROKERS,
                "streams": STREAMS,
                "changes": CHANGES,
                "open_window_seconds": OPEN_WINDOW_SECONDS,
                "events_poll_seconds": POLL_SECONDS,
                "database": "sqlite",
                "api_processes": 1,
                "caches": "the backend restarted after the brokers connected (tokens valid, its "
                "in-memory caches gone); only the warming design fills them before nine",
            },
            "results": results,
        },
    )
