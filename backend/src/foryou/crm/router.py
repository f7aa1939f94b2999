"""CRM endpoints: thin HTTP over CrmService."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from foryou.crm.schemas import LeadPageOut, LeadSummaryOut, PipelineList, PipelineOut
from foryou.crm.service import LeadQuery
from foryou.deps import CrmUser, ServicesDep
from foryou.schemas import Envelope, error_responses, ok

router = APIRouter(prefix="/crm", tags=["crm"])
_ERRORS = error_responses(401, 403, 409, 422, 502, 503, 504)


@router.get("/pipelines", response_model=Envelope[PipelineList], responses=_ERRORS)
async def list_pipelines(user: CrmUser, services: ServicesDep) -> Envelope[PipelineList]:
    pipelines = await services.crm.pipelines(user.id)
    return ok(PipelineList(items=[PipelineOut.model_validate(asdict(p)) for p in pipelines]))


@router.get("/leads", response_model=Envelope[LeadPageOut], responses=_ERRORS)
async def list_leads(
    user: CrmUser,
    services: ServicesDep,
    pipeline_id: Annotated[int | None, Query(alias="pipelineId", ge=1, le=2**53)] = None,
    stage_id: Annotated[int | None, Query(alias="stageId", ge=1, le=2**53)] = None,
    query: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    mine: bool = True,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=250)] = 25,
) -> Envelope[LeadPageOut]:
    result = await services.crm.leads(
        user.id,
        LeadQuery(
            pipeline_id=pipeline_id,
            stage_id=stage_id,
            query=query,
            mine=mine,
            page=page,
            limit=limit,
        ),
    )
    return ok(
        LeadPageOut(
            items=[LeadSummaryOut.model_validate(asdict(item)) for item in result.items],
            page=result.page,
            has_more=result.has_more,
        )
    )
