"""App login and the current user."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from foryou.auth.deps import AuthenticatedUser, UsersDep
from foryou.auth.schemas import LoginIn, LoginOut, UserOut
from foryou.schemas import Envelope, error_responses, ok

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=Envelope[LoginOut], responses=error_responses(401, 422))
async def login(body: LoginIn, users: UsersDep) -> Envelope[LoginOut]:
    result = await users.login(body.email, body.password)
    return ok(
        LoginOut(
            access_token=result.access_token,
            expires_in=result.expires_in,
            user=UserOut.model_validate(asdict(result.user)),
        )
    )


@router.get("/me", response_model=Envelope[UserOut], responses=error_responses(401))
async def me(user: AuthenticatedUser) -> Envelope[UserOut]:
    return ok(UserOut.model_validate(asdict(user)))
