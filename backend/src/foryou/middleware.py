"""ASGI middleware: request id, access log line, security headers and a body-size cap."""

from __future__ import annotations

import logging
import re
import secrets
import time

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from foryou.errors import PayloadTooLarge, error_response, unexpected_error_response
from foryou.exposure import DOCS_CSP
from foryou.logging import get_logger
from foryou.request_context import reset_request_id, set_request_id

log = get_logger("foryou.access")
# The standard library logger behind `log`: asking it whether INFO is on is cheap, while a
# call on structlog's lazy proxy builds a bound logger first, even when the line is dropped.
_access_level = logging.getLogger("foryou.access")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

MAX_BODY_BYTES = 64 * 1024
_INCOMING_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
}


class RequestContextMiddleware:
    """Binds a request id, logs one line per request (path only, never the query)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _INCOMING_ID.match(incoming) else secrets.token_hex(8)
        token = set_request_id(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                response_headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    response_headers.setdefault(name, value)
                if path.startswith("/api/v1/docs"):
                    response_headers["content-security-policy"] = DOCS_CSP
                if self.hsts:
                    response_headers["strict-transport-security"] = (
                        "max-age=31536000; includeSubDomains"
                    )
                response_headers["x-request-id"] = request_id
            await send(message)

        try:
            declared = headers.get(b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
                await error_response(PayloadTooLarge())(scope, receive, send_with_headers)
                return
            await self.app(scope, _capped(receive), send_with_headers)
        except Exception as exc:
            # Starlette answers unexpected exceptions outside every middleware, so that
            # answer would miss the headers and the request id: answer here instead.
            if status_holder["started"]:
                raise
            await unexpected_error_response(exc)(scope, receive, send_with_headers)
        finally:
            if path not in _QUIET_PATHS and _access_level.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    method=scope["method"],
                    path=path,
                    status=status_holder["status"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                )
            structlog.contextvars.unbind_contextvars("request_id")
            reset_request_id(token)


def _capped(receive: Receive) -> Receive:
    """Stops reading a chunked body that grows past the cap."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise PayloadTooLarge()
        return message

    return wrapped
