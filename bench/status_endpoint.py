"""Status endpoint: throughput and latency of `GET /api/v1/integrations/amo-crm/status`.

Against the bare `GET /healthz` of the same server in the same run, on SQLite and on
PostgreSQL: one API process (`foryou serve --workers 1`), a broker who has connected amoCRM
through the real flow, and a load generator in a separate process on loopback. Goals: status
at least half the bare throughput; p99 under 20 ms at half of the status endpoint's maximum
load; resident memory of the API process under load below 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.backend import Backend, database, run_backend
from bench.common import ROOT, emulator, print_table, write_result
from scripts.harness_constants import AMO

CONNECTIONS = 32
BROKER_EMAIL = "status.bench@foryou.example"


def load(
    api: Backend,
    url: str,
    headers: dict[str, str],
    *,
    duration: float,
    rate: float | None = None,
    sample_memory: bool = False,
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        url,
        "--connections",
        str(CONNECTIONS),
        "--duration",
        str(duration),
    ]
    if rate is not None:
        command += ["--rate", f"{rate:.1f}"]
    env = {**os.environ, "BENCH_LOADGEN_HEADERS": json.dumps(headers)}
    cpu_before = api.cpu_seconds()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    peak_rss = 0.0
    try:
        while process.poll() is None:
            if sample_memory:
                peak_rss = max(peak_rss, api.rss_mib()["rss_mib"])
            time.sleep(0.25)
        out, _ = process.communicate(timeout=duration + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    # CPU time of the API process per answered request: unlike throughput, it hardly depends
    # on what else the machine is doing.
    used = api.cpu_seconds() - cpu_before
    result["api_cpu_ms_per_request"] = round(used * 1000 / max(1, result["requests"]), 3)
    if sample_memory:
        result["rss_mib_sampled_peak"] = peak_rss
    return result


def measure(kind: str, duration: float) -> dict[str, Any]:
    with emulator() as emu, database(kind) as database_url, run_backend(database_url, emu) as api:
        api.create_broker(BROKER_EMAIL)
        headers = api.login(BROKER_EMAIL)
        api.connect(emu, headers, "broker1@reforyou.example")
        status_url = f"{api.base_url}{AMO}/status"
        bare_url = f"{api.base_url}/healthz"
        load(api, status_url, headers, duration=2)  # warm-up: imports, pools, caches
        load(api, bare_url, {}, duration=2)
        bare = load(api, bare_url, {}, duration=duration)
        # The app's own authenticated endpoint without the connection read: splits the
        # status endpoint's cost into authentication and the rest.
        me = load(api, f"{api.base_url}/api/v1/auth/me", headers, duration=duration / 2)
        status = load(api, status_url, headers, duration=duration, sample_memory=True)
        half_rate = status["requests_per_second"] / 2
        at_half = load(api, status_url, headers, duration=duration, rate=half_rate)
        memory = api.rss_mib()
    return {
        "database": kind,
        "bare": bare,
        "auth_me": me,
        "status": status,
        "status_at_half_load": at_half,
        "status_share_of_bare": round(
            status["requests_per_second"] / bare["requests_per_second"], 3
        ),
        "memory": {**memory, "sampled_under_load_mib": status["rss_mib_sampled_peak"]},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench status_endpoint")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args(argv)
    rows = []
    for kind in args.databases.split(","):
        print(f"running: status endpoint on {kind} ...", flush=True)
        rows.append(measure(kind, args.duration))
    print_table(
        f"Status endpoint vs bare endpoint, one API process, {CONNECTIONS} connections, "
        f"{args.duration:g} s each",
        [
            "database",
            "bare rps",
            "status rps",
            "status/bare",
            "CPU ms/req bare",
            "CPU ms/req /auth/me",
            "CPU ms/req status",
            "p50 ms (max)",
            "p99 ms (max)",
            "half-load rps",
            "p50 ms (half)",
            "p99 ms (half)",
            "peak RSS MiB",
        ],
        [
            [
                r["database"],
                r["bare"]["requests_per_second"],
                r["status"]["requests_per_second"],
                f"{r['status_share_of_bare'] * 100:.0f}%",
                r["bare"]["api_cpu_ms_per_request"],
                r["auth_me"]["api_cpu_ms_per_request"],
                r["status"]["api_cpu_ms_per_request"],
                r["status"]["p50_ms"],
                r["status"]["p99_ms"],
                r["status_at_half_load"]["requests_per_second"],
                r["status_at_half_load"]["p50_ms"],
                r["status_at_half_load"]["p99_ms"],
                r["memory"]["peak_rss_mib"],
            ]
            for r in rows
        ],
    )
    write_result(
        "status_endpoint",
        {
            "setup": {
                "api_processes": 1,
                "connections": CONNECTIONS,
                "duration_seconds": args.duration,
                "status_path": f"{AMO}/status",
                "bare_path": "/healthz",
            },
            "results": rows,
        },
    )
