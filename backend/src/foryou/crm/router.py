"""CRM endpoints: thin HTTP over CrmService and LeadCreator (ETags, Idempotency-Key)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse, Response

from foryou.auth.deps import CrmUser
from foryou.crm.create import CreatedLead, NewLead
from foryou.crm.deps import CrmDep
from foryou.crm.domain import Broker, LeadDetail, LeadQuery, LeadSummary
from foryou.crm.edits import LeadChange
from foryou.crm.schemas import (
    MAX_ID,
    CompleteTaskIn,
    CreatedLeadOut,
    LeadDetailOut,
    LeadPageOut,
    LeadPatchIn,
    LeadSummaryOut,
    NewLeadIn,
    NewTaskIn,
    NoteAuthorOut,
    NoteIn,
    NoteOut,
    PipelineList,
    PipelineOut,
    TaskBoardOut,
    TaskCountsOut,
    TaskOut,
)
from foryou.crm.tasks import DEFAULT_TASK_TEXTS, Task
from foryou.errors import InvalidRequest
from foryou.languages import LANGUAGES, Language, preferred_language
from foryou.schemas import ApiModel, Envelope, error_responses, ok

router = APIRouter(prefix="/crm", tags=["crm"])
_ENTITY_ERRORS = error_responses(401, 403, 404, 409, 422, 502, 503, 504)
_CREATE_ERRORS = error_responses(401, 403, 409, 422, 502, 503, 504)
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag still holds"}
}

RefreshQuery = Annotated[
    bool, Query(description="Read amoCRM again instead of the short-lived copy")
]
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=1000)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="8–100 characters [A-Za-z0-9_.:-], new for every new write (a UUID)",
    ),
]
AcceptLanguage = Annotated[
    str | None,
    Header(
        alias="Accept-Language",
        max_length=1000,
        description="The language of texts written for the broker (the call task, a task's "
        "default text): uk, en or ru (default uk)",
    ),
]


def _language(accept_language: str | None) -> Language:
    """The language of what we write into amoCRM for the broker: Ukrainian unless they ask
    for another of ours (the agency works in Ukrainian)."""
    return preferred_language(accept_language, LANGUAGES, "uk")


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
    responses={**_ENTITY_ERRORS, **_NOT_MODIFIED},
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
    "/leads", response_model=Envelope[LeadPageOut], responses={**_ENTITY_ERRORS, **_NOT_MODIFIED}
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
    responses={**_ENTITY_ERRORS, **_NOT_MODIFIED},
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
    idempotency_key: IdempotencyKey = None,
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    key = _checked_key(idempotency_key)
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
        _broker(user), key, request, language=_language(accept_language)
    )
    return _created(_created_out(created), replayed)


def _checked_key(idempotency_key: str | None) -> str:
    if idempotency_key is None or not _KEY.match(idempotency_key):
        raise InvalidRequest(
            details=[
                {
                    "field": "Idempotency-Key",
                    "message": "header required: 8-100 characters of A-Z a-z 0-9 _ . : -",
                }
            ]
        )
    return idempotency_key


def _created(payload: ApiModel, replayed: bool) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(ok(payload), by_alias=True),
        status_code=201,
        headers={"Idempotency-Replayed": "true" if replayed else "false"},
    )


@router.patch(
    "/leads/{lead_id}",
    response_model=Envelope[LeadDetailOut],
    responses=_ENTITY_ERRORS,
)
async def update_lead(
    body: LeadPatchIn,
    user: CrmUser,
    crm: CrmDep,
    lead_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Envelope[LeadDetailOut]:
    change = LeadChange(
        status_id=body.status_id, pipeline_id=body.pipeline_id, price=body.price, name=body.name
    )
    return ok(_detail_out(await crm.update_lead(_broker(user), lead_id, change)))


@router.post(
    "/leads/{lead_id}/notes",
    status_code=201,
    response_model=Envelope[NoteOut],
    responses=_ENTITY_ERRORS,
)
async def add_note(
    body: NoteIn,
    user: CrmUser,
    crm: CrmDep,
    lead_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    key = _checked_key(idempotency_key)
    note, replayed = await crm.add_note(_broker(user), lead_id, key, body.text)
    payload = NoteOut(
        id=note.id,
        text=note.text,
        created_at=datetime.fromisoformat(note.created_at),
        created_by=NoteAuthorOut(id=note.created_by_id, name=note.created_by_name),
    )
    return _created(payload, replayed)


def _task_out(task: Task) -> TaskOut:
    return TaskOut.model_validate(asdict(task))


@router.get(
    "/tasks", response_model=Envelope[TaskBoardOut], responses={**_ENTITY_ERRORS, **_NOT_MODIFIED}
)
async def task_board(
    user: CrmUser,
    crm: CrmDep,
    if_none_match: IfNoneMatch = None,
    refresh: RefreshQuery = False,
) -> Response:
    board = await crm.task_board(_broker(user), refresh=refresh)
    payload = TaskBoardOut(
        overdue=[_task_out(t) for t in board.overdue],
        today=[_task_out(t) for t in board.today],
        upcoming=[_task_out(t) for t in board.upcoming],
        counts=TaskCountsOut(
            overdue=len(board.overdue), today=len(board.today), upcoming=len(board.upcoming)
        ),
    )
    return _conditional(payload, if_none_match)


@router.post("/tasks", status_code=201, response_model=Envelope[TaskOut], responses=_CREATE_ERRORS)
async def create_task(
    body: NewTaskIn,
    user: CrmUser,
    crm: CrmDep,
    idempotency_key: IdempotencyKey = None,
    accept_language: AcceptLanguage = None,
) -> JSONResponse:
    key = _checked_key(idempotency_key)
    text = (body.text or "").strip() or DEFAULT_TASK_TEXTS[_language(accept_language)][body.type]
    task, replayed = await crm.create_task(
        _broker(user), key, lead_id=body.lead_id, task_type=body.type, text=text, due_at=body.due_at
    )
    return _created(_task_out(task), replayed)


@router.post(
    "/tasks/{task_id}/complete",
    response_model=Envelope[TaskOut],
    responses=_ENTITY_ERRORS,
)
async def complete_task(
    body: CompleteTaskIn,
    user: CrmUser,
    crm: CrmDep,
    task_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Envelope[TaskOut]:
    return ok(_task_out(await crm.complete_task(_broker(user), task_id, body.result)))
