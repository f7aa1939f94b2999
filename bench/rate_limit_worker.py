"""One process of the rate-limit benchmark: concurrent clients of one account until a deadline.

    BENCH_AMO_TOKEN=... python -m bench.rate_limit_worker --impl ours|ours-local|aioamocrm
        --emulator URL --clients 25 --start-at EPOCH --duration 20 [--rate R]
        [--redis-url URL --prefix P]

The amoCRM access token comes in the environment, so that it never shows in the process list.

Prints one JSON line: what the clients saw (answers by status or error name).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from amocrm_emulator.testing import AsyncAmoHostTransport
from foryou.integrations.amocrm.errors import AmoCrmError
from foryou.upstream import (
    InProcessCircuit,
    InProcessRateLimiter,
    RedisCircuit,
    RedisRateLimiter,
    RetryPolicy,
    UpstreamClient,
)
from redis.asyncio import Redis

from scripts.harness_constants import ACCOUNT_HOST, ACCOUNT_ID

Call = Callable[[], Awaitable[str]]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    token = os.environ["BENCH_AMO_TOKEN"]
    outcomes: Counter[str] = Counter()
    deadline = args.start_at + args.duration
    redis: Redis | None = None
    http = httpx.AsyncClient(
        transport=AsyncAmoHostTransport(args.emulator),
        limits=httpx.Limits(max_connections=args.clients),
        timeout=10.0,
    )
    amo: Any = None
    call: Call
    if args.impl in ("ours", "ours-local"):
        if args.impl == "ours":
            redis = Redis.from_url(args.redis_url)
            client = UpstreamClient(
                http,
                RedisRateLimiter(redis, rate=args.rate, prefix=args.prefix + "rl:"),
                RedisCircuit(redis, prefix=args.prefix + "circuit:"),
                RetryPolicy(max_queue_wait=30.0),
            )
        else:
            client = UpstreamClient(
                http,
                InProcessRateLimiter(rate=args.rate),
                InProcessCircuit(),
                RetryPolicy(max_queue_wait=30.0),
            )
        headers = {"Authorization": f"Bearer {token}"}

        async def call_ours() -> str:
            try:
                response = await client.request(
                    "GET",
                    f"https://{ACCOUNT_HOST}/api/v4/account",
                    account_key=str(ACCOUNT_ID),
                    headers=headers,
                )
            except AmoCrmError as exc:
                return type(exc).__name__
            return str(response.status_code)

        call = call_ours
    else:
        from aioamocrm import AmoCRMClient, AmoCRMError, LongLivedToken

        # One library client per process, shared by its concurrent callers, as its
        # documentation suggests: its limiter spaces that client's calls.
        amo = AmoCRMClient(
            subdomain=ACCOUNT_HOST.split(".")[0],
            auth=LongLivedToken(token),
            http=http,
            rate_limit=args.rate,
        )

        async def call_aioamocrm() -> str:
            try:
                await amo.request("GET", "account")
            except AmoCRMError as exc:
                status = getattr(exc, "status_code", None)
                return f"{type(exc).__name__}({status})" if status else type(exc).__name__
            return "200"

        call = call_aioamocrm

    async def one_client() -> None:
        while time.time() < deadline:
            outcomes[await call()] += 1

    await asyncio.sleep(max(0.0, args.start_at - time.time()))
    await asyncio.gather(*(one_client() for _ in range(args.clients)))
    await http.aclose()
    if redis is not None:
        await redis.aclose()
    return {"impl": args.impl, "outcomes": dict(outcomes)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["ours", "ours-local", "aioamocrm"], required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--clients", type=int, default=25)
    parser.add_argument("--rate", type=float, default=6.5)
    parser.add_argument("--start-at", type=float, required=True)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--prefix", default="")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
