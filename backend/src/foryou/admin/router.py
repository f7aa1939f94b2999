"""`/admin/*`: thin HTTP over AdminService and AgencyService; ADMIN only."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from foryou.admin.deps import AdminDep, AgencyDep
from foryou.admin.schemas import (
    AdminUserOut,
    AgencyOut,
    AgencyTokenIn,
    BrokerOut,
    BrokerState,
    CreatedUserOut,
    CreateUserIn,
    EventOut,
    PageOut,
    ReconnectIn,
)
from foryou.admin.service import Page, PageRequest
from foryou.agency.service import AgencyView
from foryou.auth.deps import AdminUser
from foryou.schemas import Envelope, MessageEnvelope, error_responses, ok

router = APIRouter(prefix="/admin", tags=["admin"])

PageNumber = Annotated[int, Query(ge=1, le=10000)]
PageLimit = Annotated[int, Query(ge=1, le=100)]
Search = Annotated[str | None, Query(min_length=1, max_length=200)]
AccountId = Annotated[int | None, Query(alias="accountId", ge=1)]
_ERRORS = error_responses(401, 403, 422)


def _page(page: Page[Any], model: type[Any]) -> dict[str, Any]:
    return {
        "items": [model.model_validate(asdict(item)) for item in page.items],
        "page": page.page,
        "limit": page.limit,
        "total": page.total,
        "has_more": page.has_more,
    }


@router.get("/brokers", response_model=Envelope[PageOut[BrokerOut]], responses=_ERRORS)
async def list_brokers(
    _admin: AdminUser,
    admin: AdminDep,
    page: PageNumber = 1,
    limit: PageLimit = 25,
    state: BrokerState | None = None,
    q: Search = None,
) -> Envelope[PageOut[BrokerOut]]:
    found = await admin.list_brokers(PageRequest(page, limit), state=state, q=q)
    return ok(PageOut[BrokerOut].model_validate(_page(found, BrokerOut)))


@router.get(
    "/brokers/{user_id}/events",
    response_model=Envelope[PageOut[EventOut]],
    responses=error_responses(401, 403, 404, 422),
)
async def broker_events(
    user_id: uuid.UUID,
    _admin: AdminUser,
    admin: AdminDep,
    page: PageNumber = 1,
    limit: PageLimit = 25,
) -> Envelope[PageOut[EventOut]]:
    found = await admin.broker_events(user_id, PageRequest(page, limit))
    return ok(PageOut[EventOut].model_validate(_page(found, EventOut)))


@router.post(
    "/brokers/{user_id}/unlink",
    response_model=MessageEnvelope,
    responses=error_responses(401, 403, 404, 422),
)
async def unlink(user_id: uuid.UUID, caller: AdminUser, admin: AdminDep) -> MessageEnvelope:
    ended = await admin.unlink(caller.id, user_id)
    return MessageEnvelope(message="Connection ended." if ended else "Nothing to end.")


@router.post(
    "/brokers/{user_id}/request-reconnect",
    response_model=MessageEnvelope,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def request_reconnect(
    user_id: uuid.UUID,
    caller: AdminUser,
    admin: AdminDep,
    body: Annotated[ReconnectIn | None, Body()] = None,
) -> MessageEnvelope:
    await admin.request_reconnect(caller.id, user_id, body.note if body else None)
    return MessageEnvelope(message="The broker will be asked to connect again.")


def _agency_out(view: AgencyView) -> AgencyOut:
    return AgencyOut.model_validate(asdict(view))


@router.get("/amo-crm/agency-connection", response_model=Envelope[AgencyOut], responses=_ERRORS)
async def show_agency(
    _admin: AdminUser, agency: AgencyDep, account_id: AccountId = None
) -> Envelope[AgencyOut]:
    return ok(_agency_out(await agency.show(account_id)))


@router.post(
    "/amo-crm/agency-connection",
    response_model=Envelope[AgencyOut],
    responses=error_responses(400, 401, 403, 422, 502, 503, 504),
)
async def set_agency_token(
    body: AgencyTokenIn, caller: AdminUser, agency: AgencyDep
) -> Envelope[AgencyOut]:
    return ok(_agency_out(await agency.set_long_lived(caller.id, body.domain, body.token)))


@router.post(
    "/amo-crm/agency-connection/use-my-connection",
    response_model=Envelope[AgencyOut],
    responses=error_responses(400, 401, 403, 409, 502, 503, 504),
)
async def use_my_connection(caller: AdminUser, agency: AgencyDep) -> Envelope[AgencyOut]:
    return ok(_agency_out(await agency.use_my_connection(caller.id)))


@router.delete("/amo-crm/agency-connection", response_model=MessageEnvelope, responses=_ERRORS)
async def remove_agency(
    _admin: AdminUser, agency: AgencyDep, account_id: AccountId = None
) -> MessageEnvelope:
    removed = await agency.remove(account_id)
    return MessageEnvelope(message=f"Removed {removed} agency connection(s).")


@router.get("/users", response_model=Envelope[PageOut[AdminUserOut]], responses=_ERRORS)
async def list_users(
    _admin: AdminUser,
    admin: AdminDep,
    page: PageNumber = 1,
    limit: PageLimit = 25,
    state: Annotated[str | None, Query(pattern="^(ACTIVE|BLOCKED)$")] = None,
    q: Search = None,
) -> Envelope[PageOut[AdminUserOut]]:
    found = await admin.list_users(PageRequest(page, limit), status=state, q=q)
    return ok(PageOut[AdminUserOut].model_validate(_page(found, AdminUserOut)))


@router.post(
    "/users",
    response_model=Envelope[CreatedUserOut],
    status_code=201,
    responses=error_responses(401, 403, 409, 422),
)
async def create_user(
    body: CreateUserIn, _admin: AdminUser, admin: AdminDep
) -> Envelope[CreatedUserOut]:
    created = await admin.create_broker(body.email, body.name, body.password)
    return ok(CreatedUserOut.model_validate(asdict(created)))


@router.post(
    "/users/{user_id}/block",
    response_model=Envelope[AdminUserOut],
    responses=error_responses(401, 403, 404, 409, 422),
)
async def block_user(
    user_id: uuid.UUID, caller: AdminUser, admin: AdminDep
) -> Envelope[AdminUserOut]:
    user = await admin.set_blocked(caller.id, user_id, blocked=True)
    return ok(AdminUserOut.model_validate(asdict(user)))


@router.post(
    "/users/{user_id}/unblock",
    response_model=Envelope[AdminUserOut],
    responses=error_responses(401, 403, 404, 422),
)
async def unblock_user(
    user_id: uuid.UUID, caller: AdminUser, admin: AdminDep
) -> Envelope[AdminUserOut]:
    user = await admin.set_blocked(caller.id, user_id, blocked=False)
    return ok(AdminUserOut.model_validate(asdict(user)))
