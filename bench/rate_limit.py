"""Rate-limit use, side by side: achieved upstream requests per second and 429s at the emulator.

The same load for every contender: 2 OS processes, 25 concurrent clients each, all calling
`GET /api/v4/account` of one amoCRM account for a fixed time against a fresh emulator that
enforces amoCRM's 7 requests per second (and blocks the account after repeated 429s, as
amoCRM does). The emulator's request log is the measure. Goal for ours: at least 90% of the
7 rps limit and not one 429.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.common import (
    REDIS_URL,
    emulator,
    max_in_window,
    print_table,
    run_workers,
    unique_prefix,
    write_result,
)

EMULATOR_LIMIT = 7.0
PROCESSES = 2
CLIENTS_PER_PROCESS = 25

# (label, worker implementation, requests per second given to each process's limiter)
CONTENDERS: list[tuple[str, str, float]] = [
    ("ours: UpstreamClient + RedisRateLimiter (6.5 rps shared)", "ours", 6.5),
    ("ours without Redis (6.5 rps per process)", "ours-local", 6.5),
    ("aioamocrm 0.1.1 (its default 7 rps per process)", "aioamocrm", 7.0),
    ("aioamocrm 0.1.1 (3.5 rps per process, split by hand)", "aioamocrm", 3.5),
]


def measure(impl: str, rate: float, duration: float) -> dict[str, Any]:
    with emulator(rate_limit=EMULATOR_LIMIT) as emu:
        token = emu.token_for("broker1@reforyou.example")["access_token"]
        emu.control.clear_requests()
        # Worker processes need a moment to start (imports); all begin sending at start_at.
        start_at = time.time() + 5.0
        prefix = unique_prefix("rate_limit")
        command = [
            "-m",
            "bench.rate_limit_worker",
            "--impl",
            impl,
            "--emulator",
            emu.base_url,
            "--clients",
            str(CLIENTS_PER_PROCESS),
            "--rate",
            str(rate),
            "--start-at",
            str(start_at),
            "--duration",
            str(duration),
            "--redis-url",
            REDIS_URL,
            "--prefix",
            prefix,
        ]
        workers = run_workers(
            [command] * PROCESSES, timeout=duration + 90, env={"BENCH_AMO_TOKEN": token}
        )
        log = emu.control.requests(path="/api/v4/account")
    # The measured window starts with the first request the emulator saw, so that a worker
    # process that started late on a busy machine does not count as unused budget.
    first = min((r["ts"] for r in log), default=start_at)
    in_window = [r for r in log if first <= r["ts"] < first + duration]
    statuses = [r["status"] for r in log]
    ok = [r["ts"] for r in in_window if r["status"] == 200]
    outcomes: dict[str, int] = {}
    for worker in workers:
        for name, count in worker["outcomes"].items():
            outcomes[name] = outcomes.get(name, 0) + count
    return {
        "impl": impl,
        "rate_per_process": rate,
        "requests_at_emulator": len(log),
        "ok_per_second": round(len(ok) / duration, 2),
        "share_of_limit": round(len(ok) / duration / EMULATOR_LIMIT, 3),
        "answers_429": statuses.count(429),
        "answers_403_blocked": statuses.count(403),
        "max_requests_in_any_second": max_in_window([r["ts"] for r in log]),
        "client_outcomes": outcomes,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench rate_limit")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per run")
    args = parser.parse_args(argv)
    rows = []
    for label, impl, rate in CONTENDERS:
        print(f"running: {label} for {args.duration:g} s ...", flush=True)
        rows.append({"contender": label, **measure(impl, rate, args.duration)})
    print_table(
        f"Rate-limit use: {PROCESSES} processes x {CLIENTS_PER_PROCESS} clients, one account, "
        f"{args.duration:g} s, emulator limit {EMULATOR_LIMIT:g} rps",
        ["contender", "ok rps", "% of 7", "429s", "403s", "max in 1 s", "at emulator"],
        [
            [
                r["contender"],
                r["ok_per_second"],
                f"{r['share_of_limit'] * 100:.0f}%",
                r["answers_429"],
                r["answers_403_blocked"],
                r["max_requests_in_any_second"],
                r["requests_at_emulator"],
            ]
            for r in rows
        ],
    )
    write_result(
        "rate_limit",
        {
            "setup": {
                "processes": PROCESSES,
                "clients_per_process": CLIENTS_PER_PROCESS,
                "duration_seconds": args.duration,
                "emulator_rate_limit": EMULATOR_LIMIT,
                "request": "GET /api/v4/account",
            },
            "results": rows,
        },
    )
