"""CRM endpoints: thin HTTP over CrmService and LeadCreator (ETags, Idempotency-Key)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse, Response

from foryou.auth.deps import CrmUser
from foryou.crm.create import DEFAULT_LANGUAGE, LANGUAGES, CreatedLead, NewLead
from foryou.crm.deps import CrmDep
from foryou.crm.domain import Broker, LeadDetail, LeadQuery, LeadSummary
from foryou.crm.schemas import (
    MAX_ID,
    CreatedLeadOut,
    LeadDetailOut,
    LeadPageOut,
    LeadSummaryOut,
    NewLeadIn,
    PipelineList,
    PipelineOut,
)
from foryou.errors import InvalidRequest
from foryou.schemas import ApiModel, Envelope, error_responses, ok

router = APIRouter(prefix="/crm", tags=["crm"])
_READ_ERRORS = error_responses(401, 403, 404, 409, 422, 502, 503, 504)
_CREATE_ERRORS = error_responses(401, 403, 409, 422, 502, 503, 504)
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag still holds"}
}

RefreshQuery = Annotated[
    bool, Query(description="Read amoCRM again instead of the short-lived copy")
]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1000)]


def _language(accept_language: str | None) -> str:
    """The broker's preferred language we speak (`uk-UA,en;q=0.8` → uk), else the default."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().split("-")[0].lower()
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def _broker(user: CrmUser) -> Broker:
    return Broker(user_id=user.id, name=user.name)


def _conditional(payload: ApiModel, if_none_match: str | None) -> Response:
    """The envelope with a strong ETag of its content, or 304 when the app's copy is current."""
    body = jsonable_encoder(ok(payload), by_alias=True)
    rendered = JSONResponse(body).body
    etag = '"' + hashlib.sha256(rendered).hexdigest()[:32] + '"'
    if if_none_match is not None:
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        if etag in offered or "*" in offered:
            return Response(status_code=304, headers={"ETag": etag})
    return Response(rendered, media_type="application/json", headers={"ETag": etag})


def _summary_out(item: LeadSummary) -> LeadSummaryOut:
    return LeadSummaryOut.model_validate(asdict(item))


@router.get(
    "/pipelines",
    response_model=Envelope[PipelineList],
    responses={**_READ_ERRORS, **_NOT_MODIFIED},
)
async def list_pipelines(
    user: CrmUser,
    crm: CrmDep,
    if_none_match: IfNoneMatch = None,
    refresh: RefreshQuery = False,
) -> Response:
    catalog = await crm.pipelines(_broker(user), refresh=refresh)
    payload = PipelineList(
        items=[PipelineOut.model_validate(asdict(p)) for p in catalog.pipelines],
        currency=catalog.currency.code,
        currency_symbol=catalog.currency.symbol,
    )
    return _conditional(payload, if_none_match)


@router.get(
    "/leads", response_model=Envelope[LeadPageOut], responses={**_READ_ERRORS, **_NOT_MODIFIED}
)
async def list_leads(
    user: CrmUser,
    crm: CrmDep,
    pipeline_id: Annotated[int | None, Query(alias="pipelineId", ge=1, le=MAX_ID)] = None,
    stage_id: Annotated[int | None, Query(alias="stageId", ge=1, le=MAX_ID)] = None,
    query: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    mine: bool = True,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=50)] = 25,
    if_none_match: IfNoneMatch = None,
    refresh: RefreshQuery = False,
) -> Response:
    search = query.strip() if query else None
    result = await crm.leads(
        _broker(user),
        LeadQuery(
            pipeline_id=pipeline_id,
            stage_id=stage_id,
            query=search or None,
            mine=mine,
            page=page,
            limit=limit,
        ),
        refresh=refresh,
    )
    payload = LeadPageOut(
        items=[_summary_out(item) for item in result.items],
        page=result.page,
        limit=result.limit,
        has_more=result.has_more,
    )
    return _conditional(payload, if_none_match)


def _detail_out(detail: LeadDetail) -> LeadDetailOut:
    data: dict[str, Any] = asdict(detail.summary)
    extra = asdict(detail)
    extra.pop("summary")
    return LeadDetailOut.model_validate({**data, **extra})


@router.get(
    "/leads/{lead_id}",
    response_model=Envelope[LeadDetailOut],
    responses={**_READ_ERRORS, **_NOT_MODIFIED},
)
async def get_lead(
    user: CrmUser,
    crm: CrmDep,
    lead_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    if_none_match: IfNoneMatch = None,
    refresh: RefreshQuery = False,
) -> Response:
    detail = await crm.lead(_broker(user), lead_id, refresh=refresh)
    return _conditional(_detail_out(detail), if_none_match)


def _created_out(created: CreatedLead) -> CreatedLeadOut:
    return CreatedLeadOut(
        id=created.lead_id,
        contact_id=created.contact_id,
        note_id=created.note_id,
        task_id=created.task_id,
        lead=LeadSummaryOut(
            id=created.lead_id,
            name=created.name,
            price=created.price,
            stage_id=created.stage_id,
            pipeline_id=created.pipeline_id,
            stage_name=created.stage_name,
            stage_color=created.stage_color,
            responsible_user_id=created.responsible_user_id,
            responsible_user_name=created.responsible_user_name,
            contact_name=created.name,
            contact_phone=created.phone,
            updated_at=created.created_at,
        ),
    )


@router.post(
    "/leads", status_code=201, response_model=Envelope[CreatedLeadOut], responses=_CREATE_ERRORS
)
async def create_lead(
    body: NewLeadIn,
    user: CrmUser,
    crm: CrmDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="8–100 characters [A-Za-z0-9_.:-], new for every new lead (a UUID)",
        ),
    ] = None,
    accept_language: Annotated[
        str | None,
        Header(
            alias="Accept-Language",
            max_length=1000,
            description="The language of the call task: uk, en or ru (default uk)",
        ),
    ] = None,
) -> JSONResponse:
    if idempotency_key is None or not _KEY.match(idempotency_key):
        raise InvalidRequest(
            details=[
                {
                    "field": "Idempotency-Key",
                    "message": "header required: 8-100 characters of A-Z a-z 0-9 _ . : -",
                }
            ]
        )
    request = NewLead(
        pipeline_id=body.pipeline_id,
        stage_id=body.stage_id,
        name=body.name,
        phone=body.phone,
        email=body.email,
        price=body.price,
        comment=body.comment,
    )
    created, replayed = await crm.create_lead(
        _broker(user), idempotency_key, request, language=_language(accept_language)
    )
    return JSONResponse(
        jsonable_encoder(ok(_created_out(created)), by_alias=True),
        status_code=201,
        headers={"Idempotency-Replayed": "true" if replayed else "false"},
    )
