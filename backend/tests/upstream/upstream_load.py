"""One load process: N concurrent clients of one amoCRM account through UpstreamClient.

Run by the multi-process tests as a separate OS process. Prints one JSON line with what its
clients saw: statuses of the answers and names of the errors raised.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import Counter
from typing import Any

import httpx
from foryou.integrations.amocrm.errors import AmoCrmError
from foryou.upstream import (
    Circuit,
    InProcessCircuit,
    InProcessRateLimiter,
    RateLimiter,
    RedisCircuit,
    RedisRateLimiter,
    RetryPolicy,
    UpstreamClient,
)
from redis.asyncio import Redis


async def run(args: argparse.Namespace) -> dict[str, Any]:
    redis: Redis | None = Redis.from_url(args.redis_url) if args.redis_url else None
    limiter: RateLimiter
    circuit: Circuit
    if redis is not None:
        limiter = RedisRateLimiter(redis, args.rate, args.burst, args.prefix + "rl:")
        circuit = RedisCircuit(redis, prefix=args.prefix + "circuit:")
    else:
        limiter = InProcessRateLimiter(args.rate, args.burst)
        circuit = InProcessCircuit()
    headers = {"Host": args.host}
    # The token comes in the environment so that it never shows in the process list.
    token = os.environ.get("UPSTREAM_LOAD_TOKEN", "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=args.clients)
    async with httpx.AsyncClient(limits=limits) as http:
        client = UpstreamClient(http, limiter, circuit, RetryPolicy(max_queue_wait=60.0))

        async def one_client() -> None:
            for _ in range(args.requests):
                try:
                    response = await client.request(
                        "GET", args.base_url + args.path, account_key=args.account, headers=headers
                    )
                    statuses[str(response.status_code)] += 1
                except AmoCrmError as exc:
                    statuses[type(exc).__name__] += 1

        await asyncio.sleep(max(0.0, args.start_at - time.time()))
        started = time.time()
        await asyncio.gather(*(one_client() for _ in range(args.clients)))
        finished = time.time()
    if redis is not None:
        await redis.aclose()
    return {"statuses": dict(statuses), "started": started, "finished": finished}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--path", default="/api/v4/account")
    parser.add_argument("--account", default="31920194")
    parser.add_argument("--clients", type=int, default=25)
    parser.add_argument("--requests", type=int, default=2)
    parser.add_argument("--rate", type=float, default=6.5)
    parser.add_argument("--burst", type=int, default=1)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--start-at", type=float, default=0.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))  # noqa: T201 - the parent reads this line


if __name__ == "__main__":
    main()
