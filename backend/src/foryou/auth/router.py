"""App login and the current user."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends

from foryou.auth.deps import AuthenticatedUser, UsersDep
from foryou.auth.schemas import LoginIn, LoginOut, UserOut
from foryou.schemas import Envelope, error_responses, ok
from foryou.throttle_http import (
    LOGIN_BY_ACCOUNT,
    LOGIN_BY_ADDRESS,
    CountedAttempt,
    ThrottlesDep,
    count_attempt,
    throttle_by_address,
)

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=Envelope[LoginOut], responses=error_responses(401, 422, 429))
async def login(
    body: LoginIn,
    users: UsersDep,
    throttles: ThrottlesDep,
    by_address: Annotated[CountedAttempt, Depends(throttle_by_address(LOGIN_BY_ADDRESS))],
) -> Envelope[LoginOut]:
    # Counted before the password is checked, so parallel guesses cannot pass the count,
    # and a held-back account is refused without learning whether the password was right.
    by_account = await count_attempt(throttles, LOGIN_BY_ACCOUNT, body.email.strip().lower())
    result = await users.login(body.email, body.password)
    # The broker is in: their account's failures are forgotten, and their own successful
    # attempt does not count against an address that other brokers share.
    await by_account.clear()
    await by_address.refund()
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
