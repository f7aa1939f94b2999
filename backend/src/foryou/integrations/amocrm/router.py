"""amo-crm integration endpoints: thin HTTP over ConnectionService."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse

from foryou.deps import BearerSubject, CrmUser, ServicesDep
from foryou.errors import AppError
from foryou.integrations.amocrm.models import ClientKind
from foryou.integrations.amocrm.pages import callback_page
from foryou.integrations.amocrm.schemas import (
    AuthorizeIn,
    AuthorizeOut,
    ExchangeCodeIn,
    StatusOut,
)
from foryou.integrations.amocrm.service import CallbackInput, StateInvalid, StatusView
from foryou.schemas import Envelope, MessageEnvelope, error_responses, ok

router = APIRouter(prefix="/integrations/amo-crm", tags=["amo-crm"])

_BROWSER_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}
_SHORT = Annotated[str | None, Query(max_length=64)]
_LONG = Annotated[str | None, Query(max_length=4096)]


def binder_cookie_name(request: Request) -> str:
    services = request.app.state.services
    # `__Host-` requires Secure, which a plain-http loopback demo cannot set.
    return "__Host-foryou_amo_flow" if services.settings.is_production else "foryou_amo_flow"


def _status_out(view: StatusView) -> StatusOut:
    return StatusOut.model_validate(asdict(view))


def _browser_result(return_url: str, status: str, code: str | None) -> HTMLResponse:
    query = {"status": status} if code is None else {"status": status, "code": code}
    location = f"{return_url}?{urlencode(query)}"
    return HTMLResponse(
        callback_page(location, status, code),
        status_code=302,
        headers={**_BROWSER_HEADERS, "Location": location},
    )


@router.get("/status", response_model=Envelope[StatusOut], responses=error_responses(401, 403))
async def status(subject: BearerSubject, services: ServicesDep) -> Envelope[StatusOut]:
    return ok(_status_out(await services.connections.status(subject)))


@router.post(
    "/authorize",
    response_model=Envelope[AuthorizeOut],
    responses=error_responses(400, 401, 403, 422, 503),
)
async def authorize(
    user: CrmUser,
    services: ServicesDep,
    body: Annotated[AuthorizeIn | None, Body()] = None,
) -> Envelope[AuthorizeOut]:
    client = body.client if body is not None else ClientKind.NATIVE
    result = await services.connections.authorize(user.id, client)
    return ok(AuthorizeOut(authorize_url=result.authorize_url, expires_at=result.expires_at))


@router.get("/oauth/start", response_class=HTMLResponse, status_code=302)
async def oauth_start(
    request: Request,
    services: ServicesDep,
    flow: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    flow_id: uuid.UUID | None = None
    try:
        flow_id = uuid.UUID(flow or "")
    except ValueError:
        error: AppError = StateInvalid()
    else:
        try:
            started = await services.connections.start(flow_id)
        except AppError as exc:
            error = exc
        else:
            response = HTMLResponse(
                "", status_code=302, headers={**_BROWSER_HEADERS, "Location": started.consent_url}
            )
            response.set_cookie(
                binder_cookie_name(request),
                started.binder,
                max_age=services.settings.oauth_flow_ttl_seconds,
                path="/",
                secure=services.settings.is_production,
                httponly=True,
                samesite="lax",
            )
            return response
    return_url = await services.connections.return_url_for(flow_id)
    return _browser_result(return_url, "error", error.code)


@router.get("/oauth/callback", response_class=HTMLResponse, status_code=302)
async def oauth_callback(
    request: Request,
    services: ServicesDep,
    code: _LONG = None,
    state: _SHORT = None,
    referer: Annotated[str | None, Query(max_length=253)] = None,
    platform: Annotated[str | None, Query(max_length=8)] = None,
    error: _SHORT = None,
) -> HTMLResponse:
    flow_id = await services.connections.flow_id_for_state(state)
    return_url = await services.connections.return_url_for(flow_id)
    try:
        await services.connections.complete(
            CallbackInput(state=state, code=code, referer=referer, platform=platform, error=error),
            binder=request.cookies.get(binder_cookie_name(request)),
        )
    except AppError as exc:
        response = _browser_result(return_url, "error", exc.code)
    else:
        response = _browser_result(return_url, "connected", None)
    response.delete_cookie(
        binder_cookie_name(request),
        path="/",
        secure=services.settings.is_production,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post(
    "/exchange-code",
    response_model=Envelope[StatusOut],
    responses=error_responses(400, 401, 403, 422, 502, 503, 504),
)
async def exchange_code(
    body: ExchangeCodeIn, user: CrmUser, services: ServicesDep
) -> Envelope[StatusOut]:
    view = await services.connections.complete(
        CallbackInput(
            state=body.state, code=body.code, referer=body.referer, platform=body.platform
        ),
        caller_user_id=user.id,
    )
    return ok(_status_out(view))


@router.post("/disconnect", response_model=MessageEnvelope, responses=error_responses(401, 403))
async def disconnect(user: CrmUser, services: ServicesDep) -> MessageEnvelope:
    await services.connections.disconnect(user.id)
    return MessageEnvelope(message="amoCRM disconnected.")


@router.get(
    "/hooks/disabled", response_model=MessageEnvelope, responses=error_responses(401, 422, 503)
)
async def integration_disabled_hook(
    services: ServicesDep,
    account_id: Annotated[str, Query(min_length=1, max_length=20)],
    client_uuid: Annotated[str, Query(min_length=1, max_length=64)],
    signature: Annotated[str, Query(min_length=1, max_length=128)],
) -> MessageEnvelope:
    revoked = await services.connections.integration_disabled(account_id, client_uuid, signature)
    return MessageEnvelope(message=f"{revoked} connection(s) revoked.")
