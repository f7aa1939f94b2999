"""A scriptable HTTP/1.1 server that stands in for amoCRM where exact answers are needed.

It is a real server on a loopback port: answers are queued per test (status, headers, body,
a delay, or a dropped connection), every request is logged with its arrival time, and an
optional sliding-window limit answers 429 like amoCRM does above 7 requests per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from amocrm_emulator.testing import RunningEmulator, start_emulator

from scripts.harness_constants import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


@contextlib.contextmanager
def amo_emulator(**flags: object) -> Iterator[RunningEmulator]:
    """A real emulator process with the test integration registered."""
    with start_emulator(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI, **flags
    ) as emulator:
        yield emulator


def unique_prefix() -> str:
    """A Redis key prefix no other test run uses."""
    return f"test:upstream:{uuid.uuid4().hex}:"


def ok_body() -> dict[str, object]:
    return {"ok": True}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str | dict[str, object] = field(default_factory=ok_body)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class LoggedRequest:
    ts: float
    method: str
    path: str
    host: str
    status: int | None  # None when the connection was dropped


class ScriptedUpstream:
    """The server. Use `running()` to start it on a free loopback port."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.log: list[LoggedRequest] = []
        self._server: asyncio.Server | None = None
        self.base_url = ""

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def requests(self, method: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.log if method is None or r.method == method]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ScriptedUpstream]:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.readexactly(length)
                arrived = time.time()
                reply = self.replies.popleft() if self.replies else Reply()
                path = target.split("?", 1)[0]
                host = headers.get("host", "")
                status = None if reply.drop else reply.status
                self.log.append(LoggedRequest(arrived, method, path, host, status))
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if reply.drop:
                    writer.transport.abort()
                    return
                writer.write(_render(reply))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # The server is closing while a delayed answer is pending.
            pass
        finally:
            writer.close()


def _render(reply: Reply) -> bytes:
    headers = dict(reply.headers)
    if isinstance(reply.body, dict):
        body = json.dumps(reply.body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(reply.body, str):
        body = reply.body.encode()
        headers.setdefault("Content-Type", "text/html; charset=utf-8")
    else:
        body = reply.body
    headers["Content-Length"] = str(len(body))
    reason = {200: "OK", 429: "Too Many Requests"}.get(reply.status, "Status")
    head = f"HTTP/1.1 {reply.status} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return head.encode("latin-1") + b"\r\n" + body


BLOCK_PAGE = "<html><body><h1>403 Forbidden</h1>Account blocked</body></html>"
