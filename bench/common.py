"""What every benchmark shares: the machine description, tables, JSON results, the emulator."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amocrm_emulator.testing import RunningEmulator, start_emulator

from scripts.harness_constants import CLIENT_ID, REDIRECT_URI
from scripts.harness_constants import POSTGRES_URL as TEST_POSTGRES_URL
from scripts.harness_constants import REDIS_URL as TEST_REDIS_URL

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# A benchmark may point at servers of its own; by default it uses the tests' servers.
REDIS_URL = os.environ.get("FORYOU_BENCH_REDIS_URL", TEST_REDIS_URL)
POSTGRES_URL = os.environ.get("FORYOU_BENCH_POSTGRES_URL", TEST_POSTGRES_URL)
# A fresh integration secret per run, inherited by the worker processes: the benchmarks start
# real `foryou serve` processes, and no secret of theirs is kept in the repository.
CLIENT_SECRET = os.environ.setdefault("FORYOU_BENCH_CLIENT_SECRET", secrets.token_urlsafe(24))


def machine() -> dict[str, Any]:
    """The machine the numbers were measured on."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    commit = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=5,
        ).stdout.strip()
    return {
        # Other work on the machine skews every number: the 1/5/15-minute load averages.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "commit": commit,
    }


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **data,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {path.relative_to(ROOT)}")
    return path


def unique_prefix(name: str) -> str:
    return f"bench:{name}:{uuid.uuid4().hex[:12]}:"


@contextlib.contextmanager
def emulator(**flags: Any) -> Iterator[RunningEmulator]:
    """A fresh emulator process with the benchmark integration registered."""
    with start_emulator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI, **flags
    ) as running:
        yield running


def run_workers(
    commands: Sequence[Sequence[str]], *, timeout: float, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run worker processes at once; each prints one JSON line last. Kills them on timeout."""
    procs = [
        subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        for command in commands
    ]
    results = []
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if proc.returncode != 0:
                msg = f"worker failed ({proc.returncode}):\n{err[-3000:]}"
                raise RuntimeError(msg)
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    return results


def max_in_window(timestamps: Sequence[float], window: float = 1.0) -> int:
    """The most events found in any window of `window` seconds."""
    ordered = sorted(timestamps)
    best = 0
    start = 0
    for end, ts in enumerate(ordered):
        while ordered[start] <= ts - window:
            start += 1
        best = max(best, end - start + 1)
    return best
