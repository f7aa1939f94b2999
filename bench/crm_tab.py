"""CRM tab: time of the first and of a repeat load, and amoCRM calls per tab open.

One tab open is what the app does when the CRM tab appears: `GET /crm/pipelines` and
`GET /crm/leads` (first page, 25 leads, "mine") at once. Brokers connect through the real
flow to a real `foryou serve` (one process) and the emulator over loopback; amoCRM calls are
counted in the emulator's request log. Measured per broker, in this order:

- cold, account cold: the first broker of the account (nothing cached);
- cold, account warm: every further broker (the account's pipelines are cached, their own
  list is not);
- warm: the same broker again within seconds (list page cached);
- revalidated: again with the ETags of the previous answers (`If-None-Match` → 304).

Every call also takes a slot of the account's budget (6.5 requests per second, one at a
time), so a cold open is bounded below by the spacing of its amoCRM calls.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx
from amocrm_emulator.testing import RunningEmulator

from bench.backend import Backend, database, run_backend
from bench.common import emulator, print_table, write_result
from scripts.harness_constants import API

BROKERS = 8


async def open_tab(
    client: httpx.AsyncClient, headers: dict[str, str], etags: dict[str, str] | None = None
) -> tuple[float, dict[str, str], list[int]]:
    """One tab open: seconds until both answers are in, their ETags and statuses."""
    paths = ("/crm/pipelines", "/crm/leads")
    started = time.perf_counter()
    answers = await asyncio.gather(
        *(
            client.get(
                f"{API}{path}",
                headers={**headers, **({"If-None-Match": etags[path]} if etags else {})},
            )
            for path in paths
        )
    )
    elapsed = time.perf_counter() - started
    for answer in answers:
        if answer.status_code not in (200, 304):
            msg = f"tab open answered {answer.status_code}: {answer.text[:200]}"
            raise RuntimeError(msg)
    return (
        elapsed,
        {path: answer.headers["etag"] for path, answer in zip(paths, answers, strict=True)},
        [answer.status_code for answer in answers],
    )


def upstream_calls(emu: RunningEmulator) -> int:
    rows = emu.control.requests()
    return sum(1 for row in rows if row["path"].startswith("/api/v4/"))


async def measure(api: Backend, emu: RunningEmulator) -> dict[str, list[dict[str, Any]]]:
    logins = [u["login"] for u in emu.control.users(role="broker", account_subdomain="reforyou")]
    brokers = []
    for index, login in enumerate(logins[:BROKERS]):
        email = f"crm.tab.{index}@foryou.example"
        api.create_broker(email)
        headers = api.login(email)
        api.connect(emu, headers, login)
        brokers.append(headers)

    samples: dict[str, list[dict[str, Any]]] = {
        "cold_account_cold": [],
        "cold_account_warm": [],
        "warm": [],
        "revalidated": [],
    }
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        for index, headers in enumerate(brokers):
            emu.control.clear_requests()
            seconds, etags, _ = await open_tab(client, headers)
            kind = "cold_account_cold" if index == 0 else "cold_account_warm"
            samples[kind].append({"seconds": seconds, "upstream_calls": upstream_calls(emu)})

            emu.control.clear_requests()
            seconds, _, statuses = await open_tab(client, headers)
            assert statuses == [200, 200]
            samples["warm"].append({"seconds": seconds, "upstream_calls": upstream_calls(emu)})

            emu.control.clear_requests()
            seconds, _, statuses = await open_tab(client, headers, etags)
            assert statuses == [304, 304], statuses
            samples["revalidated"].append(
                {"seconds": seconds, "upstream_calls": upstream_calls(emu)}
            )
    return samples


def summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(sample["seconds"] * 1000 for sample in samples)
    calls = [sample["upstream_calls"] for sample in samples]
    return {
        "opens": len(samples),
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(times[-1], 1),
        "upstream_calls_per_open": round(statistics.mean(calls), 2),
    }


def run(kind: str) -> dict[str, Any]:
    with emulator() as emu, database(kind) as url, run_backend(url, emu) as api:
        samples = asyncio.run(measure(api, emu))
    return {name: summary(values) for name, values in samples.items() if values}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench crm_tab", description=__doc__)
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    options = parser.parse_args(argv)
    results: dict[str, Any] = {}
    rows = []
    labels = {
        "cold_account_cold": "first load, nothing cached",
        "cold_account_warm": "first load, account's pipelines cached",
        "warm": "repeat load within seconds",
        "revalidated": "repeat load with If-None-Match (304)",
    }
    for kind in options.databases.split(","):
        results[kind] = run(kind.strip())
        for name, label in labels.items():
            if name in results[kind]:
                row = results[kind][name]
                rows.append(
                    [
                        kind,
                        label,
                        row["opens"],
                        row["median_ms"],
                        row["max_ms"],
                        row["upstream_calls_per_open"],
                    ]
                )
    print_table(
        "CRM tab open (pipelines + first page of leads, at once)",
        ["db", "load", "opens", "median ms", "max ms", "amoCRM calls/open"],
        rows,
    )
    write_result(
        "crm_tab",
        {
            "description": "CRM tab open = GET /crm/pipelines + GET /crm/leads concurrently; "
            "one `foryou serve` process; amoCRM = the emulator on loopback, 6.5 rps budget",
            "brokers": BROKERS,
            "results": results,
        },
    )
