"""Request dependencies of the admin feature: its services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from foryou.admin.service import AdminService
from foryou.agency.service import AgencyService


async def get_admin(request: Request) -> AdminService:
    admin: AdminService = request.app.state.admin
    return admin


async def get_agency(request: Request) -> AgencyService:
    agency: AgencyService = request.app.state.agency
    return agency


AdminDep = Annotated[AdminService, Depends(get_admin)]
AgencyDep = Annotated[AgencyService, Depends(get_agency)]
