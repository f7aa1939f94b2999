"""One process of the refresh-storm benchmark for the libraries (aioamocrm, Authlib).

    python -m bench.refresh_storm_worker --impl aioamocrm|authlib --emulator URL
        --state-dir DIR --brokers 20 --requests 200 --processes 4 --index K --start-at EPOCH

Every broker's token set lives in DIR/broker-N.json, shared by all processes, the way each
library documents sharing tokens between processes (aioamocrm's JsonFileTokenStorage; an
`update_token` callback writing the same file for Authlib). Process K sends its share of the
requests, all at once, to `GET /api/v4/account` as the broker each request belongs to.
Prints one JSON line: outcomes by status or error name.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from amocrm_emulator.testing import AsyncAmoHostTransport

from bench.common import CLIENT_SECRET
from scripts.harness_constants import ACCOUNT_HOST, CLIENT_ID, REDIRECT_URI

TOKEN_URL = f"https://{ACCOUNT_HOST}/oauth2/access_token"
ACCOUNT_URL = f"https://{ACCOUNT_HOST}/api/v4/account"


def my_requests(args: argparse.Namespace) -> list[int]:
    """Brokers of this process's requests: request j is broker j % brokers, and goes to
    process (j // brokers) % processes, so every broker's requests reach every process."""
    return [
        j % args.brokers
        for j in range(args.requests)
        if (j // args.brokers) % args.processes == args.index
    ]


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as file:
        json.dump(data, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)


async def aioamocrm_calls(
    args: argparse.Namespace, http: httpx.AsyncClient
) -> Callable[[int], Awaitable[str]]:
    from aioamocrm import AmoCRMClient, AmoCRMError, JsonFileTokenStorage, OAuth2

    clients = {
        broker: AmoCRMClient(
            subdomain=ACCOUNT_HOST.split(".")[0],
            auth=OAuth2(
                CLIENT_ID,
                CLIENT_SECRET,
                REDIRECT_URI,
                JsonFileTokenStorage(Path(args.state_dir) / f"broker-{broker}.json"),
            ),
            http=http,
            rate_limit=None,
        )
        for broker in range(args.brokers)
    }

    async def call(broker: int) -> str:
        try:
            await clients[broker].request("GET", "account")
        except AmoCRMError as exc:
            status = getattr(exc, "status_code", None)
            return f"{type(exc).__name__}({status})" if status else type(exc).__name__
        return "200"

    return call


async def authlib_calls(
    args: argparse.Namespace, http: httpx.AsyncClient
) -> Callable[[int], Awaitable[str]]:
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        # Authlib 1.9 warns that it falls back to httpx; the client code is the same.
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    clients: dict[int, Any] = {}
    for broker in range(args.brokers):
        path = Path(args.state_dir) / f"broker-{broker}.json"

        async def update_token(
            token: dict[str, Any],
            refresh_token: str | None = None,
            access_token: str | None = None,
            _path: Path = path,
        ) -> None:
            write_atomically(_path, dict(token))

        clients[broker] = AsyncOAuth2Client(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT_URI,
            token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
            token_endpoint=TOKEN_URL,
            token=json.loads(path.read_text()),
            update_token=update_token,
            transport=AsyncAmoHostTransport(args.emulator),
        )

    async def call(broker: int) -> str:
        try:
            response = await clients[broker].get(ACCOUNT_URL)
        except Exception as exc:
            return type(exc).__name__
        return str(response.status_code)

    return call


async def run(args: argparse.Namespace) -> dict[str, Any]:
    http = httpx.AsyncClient(transport=AsyncAmoHostTransport(args.emulator), timeout=30.0)
    if args.impl == "aioamocrm":
        call = await aioamocrm_calls(args, http)
    else:
        call = await authlib_calls(args, http)
    outcomes: Counter[str] = Counter()

    async def one(broker: int) -> None:
        outcomes[await call(broker)] += 1

    await asyncio.sleep(max(0.0, args.start_at - time.time()))
    await asyncio.gather(*(one(broker) for broker in my_requests(args)))
    await http.aclose()
    return {"impl": args.impl, "index": args.index, "outcomes": dict(outcomes)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=["aioamocrm", "authlib"], required=True)
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--brokers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--start-at", type=float, required=True)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
