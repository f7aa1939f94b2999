"""amo-crm integration endpoints: thin HTTP over ConnectionService."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from foryou.auth.deps import BearerSubject, CrmUser
from foryou.errors import AppError
from foryou.integrations.amocrm.deps import ConnectionsDep, DisableHookDep, get_connections
from foryou.integrations.amocrm.models import ClientKind
from foryou.integrations.amocrm.pages import (
    page_language,
    return_page,
    start_page,
    unknown_flow_page,
)
from foryou.integrations.amocrm.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    CompleteIn,
    ExchangeCodeIn,
    StatusOut,
)
from foryou.integrations.amocrm.service import (
    BinderCookie,
    BrowserOutcome,
    BrowserRedirect,
    CallbackInput,
    ConsentPage,
    FlowUnknown,
    StatusView,
)
from foryou.languages import Language
from foryou.schemas import Envelope, MessageEnvelope, error_responses, ok
from foryou.throttle_http import throttle_by_address

router = APIRouter(prefix="/integrations/amo-crm", tags=["amo-crm"])

_BROWSER_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
_SHORT = Annotated[str | None, Query(max_length=64)]
_LONG = Annotated[str | None, Query(max_length=4096)]


def _status_out(view: StatusView) -> StatusOut:
    return StatusOut.model_validate(asdict(view))


def _browser_response(
    outcome: BrowserOutcome, cookie: BinderCookie, accept_language: str | None
) -> HTMLResponse:
    """A person's browser gets a page in their language: the consent page, a 302 back to the
    app that started the flow (the app's auth session needs the redirect; the page is its
    body for browsers that do not follow it), or, for an unknown flow, a page alone."""
    language = page_language(accept_language)
    if isinstance(outcome, FlowUnknown):
        page = unknown_flow_page(language, outcome.code, outcome.web_app_url)
        return HTMLResponse(page, status_code=outcome.status_code, headers=_BROWSER_HEADERS)
    if isinstance(outcome, ConsentPage):
        page = start_page(language, outcome.consent_url, outcome.holder_name, outcome.holder_email)
        response = HTMLResponse(page, headers=_BROWSER_HEADERS)
        response.set_cookie(
            cookie.name,
            outcome.cookie.value,
            max_age=cookie.max_age,
            path="/",
            secure=cookie.secure,
            httponly=True,
            samesite="lax",
        )
        return response
    return _redirect_back(outcome, cookie, language)


def _redirect_back(
    redirect: BrowserRedirect, cookie: BinderCookie, language: Language
) -> HTMLResponse:
    page = return_page(language, redirect.location, redirect.code)
    response = HTMLResponse(
        page, status_code=302, headers={**_BROWSER_HEADERS, "Location": redirect.location}
    )
    if redirect.cookie is not None:
        response.delete_cookie(
            cookie.name, path="/", secure=cookie.secure, httponly=True, samesite="lax"
        )
    return response


class BrowserRoute(APIRoute):
    """A route a person opens in a browser: input it cannot read, and errors raised before
    the endpoint runs (a throttle), answer with the page in the reader's language instead of
    the JSON envelope. Only the browser routes use it; the JSON API keeps the envelope."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                error: AppError = _UnreadableLink()
            except AppError as raised:
                error = raised
            connections = await get_connections(request)
            response = _browser_response(
                connections.flow_unknown(error),
                connections.binder_cookie,
                request.headers.get("accept-language"),
            )
            response.headers.update(error.headers or {})
            return response

        return handle


class _UnreadableLink(AppError):
    status_code = 400
    code = "validation_error"
    message = "The link is damaged or incomplete."


browser_router = APIRouter(route_class=BrowserRoute)


@router.get("/status", response_model=Envelope[StatusOut], responses=error_responses(401, 403))
async def status(subject: BearerSubject, connections: ConnectionsDep) -> Envelope[StatusOut]:
    return ok(_status_out(await connections.status(subject)))


@router.post(
    "/authorize",
    response_model=Envelope[AuthorizeOut],
    responses=error_responses(400, 401, 403, 422, 503),
)
async def authorize(
    user: CrmUser,
    connections: ConnectionsDep,
    body: Annotated[AuthorizeIn | None, Body()] = None,
) -> Envelope[AuthorizeOut]:
    client = body.client if body is not None else ClientKind.NATIVE
    result = await connections.authorize(user.id, client)
    return ok(AuthorizeOut(authorize_url=result.authorize_url, expires_at=result.expires_at))


@browser_router.get("/oauth/start", response_class=HTMLResponse)
async def oauth_start(
    request: Request,
    connections: ConnectionsDep,
    flow: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    return _browser_response(
        await connections.start_in_browser(flow),
        connections.binder_cookie,
        request.headers.get("accept-language"),
    )


@browser_router.get(
    "/oauth/callback",
    response_class=HTMLResponse,
    status_code=302,
    dependencies=[Depends(throttle_by_address("amocrm_callback"))],
)
async def oauth_callback(
    request: Request,
    connections: ConnectionsDep,
    code: _LONG = None,
    state: _SHORT = None,
    referer: Annotated[str | None, Query(max_length=253)] = None,
    platform: Annotated[str | None, Query(max_length=8)] = None,
    error: _SHORT = None,
) -> HTMLResponse:
    cookie = connections.binder_cookie
    outcome = await connections.complete_in_browser(
        CallbackInput(state=state, code=code, referer=referer, platform=platform, error=error),
        binder=request.cookies.get(cookie.name),
    )
    return _browser_response(outcome, cookie, request.headers.get("accept-language"))


@router.post(
    "/complete",
    response_model=Envelope[StatusOut],
    responses=error_responses(400, 401, 403, 409, 422, 429),
    dependencies=[Depends(throttle_by_address("amocrm_complete"))],
)
async def complete(
    body: CompleteIn, user: CrmUser, connections: ConnectionsDep
) -> Envelope[StatusOut]:
    return ok(_status_out(await connections.complete(body.ticket, user.id)))


@router.post(
    "/exchange-code",
    response_model=Envelope[StatusOut],
    responses=error_responses(400, 401, 403, 409, 422, 429, 502, 503, 504),
    dependencies=[Depends(throttle_by_address("amocrm_exchange_code"))],
)
async def exchange_code(
    body: ExchangeCodeIn, user: CrmUser, connections: ConnectionsDep
) -> Envelope[StatusOut]:
    view = await connections.exchange_code(
        CallbackInput(
            state=body.state, code=body.code, referer=body.referer, platform=body.platform
        ),
        user.id,
    )
    return ok(_status_out(view))


@router.post("/disconnect", response_model=MessageEnvelope, responses=error_responses(401, 403))
async def disconnect(user: CrmUser, connections: ConnectionsDep) -> MessageEnvelope:
    await connections.disconnect(user.id)
    return MessageEnvelope(message="amoCRM disconnected.")


@router.get(
    "/hooks/disabled",
    response_model=MessageEnvelope,
    responses=error_responses(401, 422, 429, 503),
    dependencies=[Depends(throttle_by_address("amocrm_disable_hook"))],
)
async def integration_disabled_hook(
    disable_hook: DisableHookDep,
    account_id: Annotated[str, Query(max_length=18)],
    client_uuid: Annotated[str, Query(max_length=64)],
    signature: Annotated[str, Query(max_length=64)],
) -> MessageEnvelope:
    outcome = await disable_hook.integration_disabled(account_id, client_uuid, signature)
    return MessageEnvelope(message=outcome.message)


router.include_router(browser_router)
