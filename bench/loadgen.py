"""A small HTTP/1.1 load generator on raw keep-alive sockets (cheaper per request than httpx).

    python -m bench.loadgen --url http://127.0.0.1:8000/healthz
        --connections 32 --duration 10 [--rate 500]

Extra request headers (an Authorization header, say) come as a JSON object in the environment
variable BENCH_LOADGEN_HEADERS, so that no credential shows in the process list.

Without `--rate` every connection sends its next request as soon as the previous answer
arrived (closed loop: the maximum throughput). With `--rate` requests are scheduled at that
total rate (open loop) and each latency is measured from the moment the request was due, so a
slow server cannot hide its queueing delay. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str,
    port: int,
    request: bytes,
    tally: Tally,
    deadline: float,
    schedule: tuple[float, float] | None,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        sent = 0
        while True:
            if schedule is None:
                due = time.perf_counter()
            else:
                first, interval = schedule
                due = first + sent * interval
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            if due >= deadline:
                return
            sent += 1
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies.append(time.perf_counter() - due)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
    finally:
        writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(
    url: str, headers: list[str], connections: int, duration: float, rate: float | None
) -> dict[str, Any]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]
    request = "\r\n".join(head).encode("latin-1")
    tally = Tally()
    start = time.perf_counter() + 0.2
    deadline = start + duration
    tasks = []
    for index in range(connections):
        schedule = None
        if rate is not None:
            interval = connections / rate
            schedule = (start + index / rate, interval)
        tasks.append(_connection(host, port, request, tally, deadline, schedule))
    await asyncio.gather(*tasks)
    ordered = sorted(tally.latencies)
    done = len(ordered)
    return {
        "url_path": parts.path,
        "connections": connections,
        "duration_seconds": duration,
        "target_rate": rate,
        "requests": done,
        "requests_per_second": round(done / duration, 1),
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2) if ordered else None,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "errors": tally.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    extra = json.loads(os.environ.get("BENCH_LOADGEN_HEADERS") or "{}")
    headers = [f"{name}: {value}" for name, value in extra.items()]
    result = asyncio.run(run(args.url, headers, args.connections, args.duration, args.rate))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
