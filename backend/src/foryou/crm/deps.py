"""Request dependencies of the CRM feature: its service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from foryou.crm.service import CrmService


async def get_crm(request: Request) -> CrmService:
    crm: CrmService = request.app.state.crm
    return crm


CrmDep = Annotated[CrmService, Depends(get_crm)]
