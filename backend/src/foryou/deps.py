"""Request dependencies: the shared services and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from foryou.auth.models import CurrentUser
from foryou.auth.service import admit
from foryou.auth.tokens import TokenSubject
from foryou.services import Services

_bearer = HTTPBearer(auto_error=False, description="The app's JWT from /auth/login")


# Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
# on every request.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_token_subject(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenSubject:
    token = credentials.credentials if credentials is not None else None
    return services.users.verify_bearer(token)


# A verified token whose user is not read yet: for endpoints that read the user together
# with their own data in one query and then `admit` them (the amoCRM status).
BearerSubject = Annotated[TokenSubject, Depends(get_token_subject)]


async def get_current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser:
    token = credentials.credentials if credentials is not None else None
    return await services.users.authenticate(token)


AuthenticatedUser = Annotated[CurrentUser, Depends(get_current_user)]


async def get_crm_user(user: AuthenticatedUser) -> CurrentUser:
    return admit(user, crm_only=True)


CrmUser = Annotated[CurrentUser, Depends(get_crm_user)]
