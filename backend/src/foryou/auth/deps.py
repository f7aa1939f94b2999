"""Request dependencies of the auth feature: the user service and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from foryou.auth.models import CurrentUser, Role
from foryou.auth.service import UserService, admit
from foryou.auth.tokens import TokenSubject
from foryou.errors import Forbidden

_bearer = HTTPBearer(auto_error=False, description="The app's JWT from /auth/login")


# Async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread hop
# on every request.
async def get_users(request: Request) -> UserService:
    users: UserService = request.app.state.users
    return users


UsersDep = Annotated[UserService, Depends(get_users)]
BearerToken = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_token_subject(users: UsersDep, credentials: BearerToken) -> TokenSubject:
    return users.verify_bearer(credentials.credentials if credentials is not None else None)


# A verified token whose user is not read yet: for endpoints that read the user together
# with their own data in one query and then `admit` them (the amoCRM status).
BearerSubject = Annotated[TokenSubject, Depends(get_token_subject)]


async def get_current_user(users: UsersDep, credentials: BearerToken) -> CurrentUser:
    return await users.authenticate(credentials.credentials if credentials is not None else None)


AuthenticatedUser = Annotated[CurrentUser, Depends(get_current_user)]


async def get_crm_user(user: AuthenticatedUser) -> CurrentUser:
    return admit(user, crm_only=True)


CrmUser = Annotated[CurrentUser, Depends(get_crm_user)]


async def get_admin_user(user: AuthenticatedUser) -> CurrentUser:
    """An app ADMIN; every other role gets 403 (no token or a refused one: 401 before)."""
    if user.role != Role.ADMIN:
        raise Forbidden()
    return user


AdminUser = Annotated[CurrentUser, Depends(get_admin_user)]
