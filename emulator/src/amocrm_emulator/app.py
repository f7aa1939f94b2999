"""The ASGI application: host routing, request log, faults, rate limit, then the handlers.

Each request passes, in order: host resolution → request log (records the final status) →
control endpoints (`/_emulator/`, only with `--control`) → injected faults → the per-account
rate limit (API v4 only) → the routes of the host it is addressed to.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from amocrm_emulator.api import account as account_api
from amocrm_emulator.api import activity, contacts, events, leads, tasks, webhooks
from amocrm_emulator.control import routes as control_routes
from amocrm_emulator.core import Emulator
from amocrm_emulator.hosts import HostKind, resolve_host
from amocrm_emulator.http import RequestContext, blocked, new_request_id, problem
from amocrm_emulator.oauth import consent, endpoint
from amocrm_emulator.requestlog import mask_query

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("amocrm_emulator")

CONTROL_PREFIX = "/_emulator/"
API_PREFIX = "/api/v4/"

CONSENT_ROUTES = [
    Route("/oauth", consent.consent_get, methods=["GET"]),
    Route("/oauth", consent.consent_post, methods=["POST"]),
    Route("/oauth/", consent.consent_get, methods=["GET"]),
    Route("/oauth/", consent.consent_post, methods=["POST"]),
]
TOKEN_ROUTES = [Route("/oauth2/access_token", endpoint.access_token, methods=["POST"])]
SUBDOMAIN_ROUTES = [
    Route("/oauth2/account/current/subdomain", endpoint.current_subdomain, methods=["GET"]),
]
API_ROUTES = [
    Route("/api/v4/account", account_api.account, methods=["GET"]),
    Route("/api/v4/users", account_api.users, methods=["GET"]),
    Route("/api/v4/users/{user_id}", account_api.user, methods=["GET"]),
    Route("/api/v4/leads", leads.list_leads, methods=["GET"]),
    Route("/api/v4/leads", leads.create_leads, methods=["POST"]),
    Route("/api/v4/leads", leads.update_leads, methods=["PATCH"]),
    Route("/api/v4/leads/pipelines", leads.list_pipelines, methods=["GET"]),
    Route("/api/v4/leads/pipelines/{pipeline_id}", leads.get_pipeline, methods=["GET"]),
    Route("/api/v4/leads/pipelines/{pipeline_id}/statuses", leads.list_statuses, methods=["GET"]),
    Route("/api/v4/leads/notes", activity.list_notes, methods=["GET"]),
    Route("/api/v4/leads/notes", activity.create_notes, methods=["POST"]),
    Route("/api/v4/leads/custom_fields", activity.lead_fields, methods=["GET"]),
    Route("/api/v4/leads/{lead_id:int}", leads.update_lead, methods=["PATCH"]),
    Route("/api/v4/leads/{lead_id}", leads.get_lead, methods=["GET"]),
    Route("/api/v4/leads/{lead_id}/notes", activity.list_lead_notes, methods=["GET"]),
    Route("/api/v4/leads/{lead_id}/notes", activity.create_notes, methods=["POST"]),
    Route("/api/v4/leads/{lead_id}/notes/{note_id:int}", activity.get_note, methods=["GET"]),
    Route("/api/v4/contacts", contacts.list_contacts, methods=["GET"]),
    Route("/api/v4/contacts", contacts.create_contacts, methods=["POST"]),
    Route("/api/v4/contacts/custom_fields", activity.contact_fields, methods=["GET"]),
    Route("/api/v4/contacts/{contact_id}", contacts.get_contact, methods=["GET"]),
    Route("/api/v4/tasks", tasks.list_tasks, methods=["GET"]),
    Route("/api/v4/tasks", tasks.create_tasks, methods=["POST"]),
    Route("/api/v4/tasks", tasks.update_tasks, methods=["PATCH"]),
    Route("/api/v4/tasks/{task_id:int}", tasks.get_task, methods=["GET"]),
    Route("/api/v4/tasks/{task_id:int}", tasks.update_task, methods=["PATCH"]),
    Route("/api/v4/tasks/{task_id:int}", tasks.delete_task, methods=["DELETE"]),
    Route("/api/v4/events", events.list_events, methods=["GET"]),
    Route("/api/v4/events/{event_id}", events.get_event, methods=["GET"]),
    Route("/api/v4/webhooks", webhooks.list_webhooks, methods=["GET"]),
    Route("/api/v4/webhooks", webhooks.subscribe, methods=["POST"]),
    Route("/api/v4/webhooks", webhooks.unsubscribe, methods=["DELETE"]),
]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return problem(405, "Method not allowed", headers=dict(exc.headers or {}))
    return problem(exc.status_code, "Not found" if exc.status_code == 404 else str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "Internal server error", trace_id=new_request_id())


def _app(emulator: Emulator, routes: list[Route]) -> Starlette:
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.emulator = emulator
    return app


class EmulatorApp:
    """The top-level ASGI callable."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.consent_app = _app(emulator, [*CONSENT_ROUTES, *TOKEN_ROUTES])
        self.account_app = _app(emulator, [*TOKEN_ROUTES, *API_ROUTES])
        self.api_domain_app = _app(emulator, SUBDOMAIN_ROUTES)
        self.loopback_app = _app(
            emulator, [*CONSENT_ROUTES, *TOKEN_ROUTES, *SUBDOMAIN_ROUTES, *API_ROUTES]
        )
        self.control_app = (
            _app(emulator, control_routes.ROUTES) if emulator.options.control else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        emulator = self.emulator
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        host_header = headers.get(b"host", b"").decode("latin-1")
        target = resolve_host(emulator.state, host_header, emulator.default_account_id)
        ctx = RequestContext(target=target, request_id=new_request_id())
        scope["amo"] = ctx
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        status: list[int] = []

        async def send_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", ctx.request_id.encode("ascii")),
                ]
            await send(message)

        if path.startswith(CONTROL_PREFIX) and self.control_app is not None:
            await self.control_app(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send_recording, ctx, method, path)
        finally:
            emulator.requests.add(
                {
                    "ts": emulator.clock.now(),
                    "host": target.host,
                    "method": method,
                    "path": path,
                    "query": _masked_query(scope),
                    "grant_type": ctx.grant_type,
                    "status": status[0] if status and not ctx.dropped else None,
                    "account_subdomain": ctx.account_subdomain,
                    "user_id": ctx.user_id,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        ctx: RequestContext,
        method: str,
        path: str,
    ) -> None:
        fault = self.emulator.faults.take(method, ctx.target.host, path)
        if fault is None:
            await self._route(scope, receive, send, ctx, path)
            return
        captured: list[Message] = []
        if fault.after_processing:
            # Handle the request for real (tokens rotate, leads are written) but hold the
            # answer back; the fault then decides whether the client ever gets it.
            async def capture(message: Message) -> None:
                captured.append(message)

            await self._route(scope, receive, capture, ctx, path)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            ctx.dropped = True
            await _drop(send)
        elif fault.status is not None:
            await problem(fault.status, "Injected failure")(scope, receive, send)
        elif fault.after_processing:
            for message in captured:
                await send(message)
        else:
            await self._route(scope, receive, send, ctx, path)

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, ctx: RequestContext, path: str
    ) -> None:
        target = ctx.target
        if target.account is not None and target.serves_account and path.startswith(API_PREFIX):
            verdict = self.emulator.limiter.check(target.account.id)
            if not verdict.allowed:
                response = (
                    blocked(verdict.retry_after)
                    if verdict.blocked
                    else problem(
                        429,
                        "You have sent too many requests in a given amount of time. "
                        "Please try again later.",
                        headers={"Retry-After": str(verdict.retry_after)},
                        retry_after=verdict.retry_after,
                    )
                )
                await response(scope, receive, send)
                return
        app: ASGIApp | None
        if target.kind is HostKind.LOOPBACK:
            app = self.loopback_app if target.account is not None else self.consent_app
        elif target.kind is HostKind.CONSENT:
            app = self.consent_app
        elif target.kind is HostKind.ACCOUNT:
            app = self.account_app
        elif target.kind is HostKind.API_DOMAIN:
            app = self.api_domain_app
        else:
            app = None
        if app is None:
            detail = (
                "Account not found" if target.kind is HostKind.UNKNOWN_ACCOUNT else "Unknown host"
            )
            await problem(404, detail)(scope, receive, send)
            return
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.emulator.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.emulator.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _drop(send: Send) -> None:
    """Lose the connection: headers go out, then the connection closes mid-body.

    The ASGI server closes the socket when the application returns without completing a
    response it started; the client sees the connection end before the answer is complete.
    """
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})


def _masked_query(scope: Scope) -> str:
    raw: bytes = scope.get("query_string", b"")
    return mask_query(raw.decode("latin-1"))


def build_app(emulator: Emulator) -> EmulatorApp:
    return EmulatorApp(emulator)
