"""amo-crm integration endpoints: thin HTTP over ConnectionService."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import HTMLResponse

from foryou.auth.deps import BearerSubject, CrmUser
from foryou.integrations.amocrm.deps import ConnectionsDep, DisableHookDep
from foryou.integrations.amocrm.models import ClientKind
from foryou.integrations.amocrm.pages import callback_page
from foryou.integrations.amocrm.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    ExchangeCodeIn,
    StatusOut,
)
from foryou.integrations.amocrm.service import (
    BinderCookie,
    BrowserRedirect,
    CallbackInput,
    ClearBinder,
    SetBinder,
    StatusView,
)
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


def _browser_response(redirect: BrowserRedirect, cookie: BinderCookie) -> HTMLResponse:
    page = (
        ""
        if redirect.outcome is None
        else callback_page(redirect.location, redirect.outcome, redirect.code)
    )
    response = HTMLResponse(
        page, status_code=302, headers={**_BROWSER_HEADERS, "Location": redirect.location}
    )
    if isinstance(redirect.cookie, SetBinder):
        response.set_cookie(
            cookie.name,
            redirect.cookie.value,
            max_age=cookie.max_age,
            path="/",
            secure=cookie.secure,
            httponly=True,
            samesite="lax",
        )
    elif isinstance(redirect.cookie, ClearBinder):
        response.delete_cookie(
            cookie.name, path="/", secure=cookie.secure, httponly=True, samesite="lax"
        )
    return response


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


@router.get("/oauth/start", response_class=HTMLResponse, status_code=302)
async def oauth_start(
    connections: ConnectionsDep, flow: Annotated[str | None, Query(max_length=64)] = None
) -> HTMLResponse:
    return _browser_response(await connections.start_in_browser(flow), connections.binder_cookie)


@router.get("/oauth/callback", response_class=HTMLResponse, status_code=302)
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
    redirect = await connections.complete_in_browser(
        CallbackInput(state=state, code=code, referer=referer, platform=platform, error=error),
        binder=request.cookies.get(cookie.name),
    )
    return _browser_response(redirect, cookie)


@router.post(
    "/exchange-code",
    response_model=Envelope[StatusOut],
    responses=error_responses(400, 401, 403, 422, 502, 503, 504),
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
