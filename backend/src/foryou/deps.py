"""Request dependencies: the shared services and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from foryou.auth.models import CRM_ROLES
from foryou.auth.service import CurrentUser
from foryou.errors import Forbidden
from foryou.services import Services

_bearer = HTTPBearer(auto_error=False, description="The app's JWT from /auth/login")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    token = credentials.credentials if credentials is not None else None
    return await services.users.authenticate(token)


AuthenticatedUser = Annotated[CurrentUser, Depends(get_current_user)]


async def get_crm_user(user: AuthenticatedUser) -> CurrentUser:
    if user.role not in CRM_ROLES:
        raise Forbidden()
    return user


CrmUser = Annotated[CurrentUser, Depends(get_crm_user)]
