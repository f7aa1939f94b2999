"""`GET /api/v4/account` and the admin-only users methods."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api.common import (
    Caller,
    authenticated,
    bad_query,
    forbidden,
    page_links,
    page_of,
    query_dict,
    read_paging,
    to_int,
    with_values,
)
from amocrm_emulator.api.entities import user_json
from amocrm_emulator.http import FieldError, JSONDictT, hal, no_content

TASK_TYPES = [
    {"id": 1, "name": "Связаться", "color": None, "icon_id": None, "code": "FOLLOW_UP"},
    {"id": 2, "name": "Встреча", "color": None, "icon_id": None, "code": "MEETING"},
]


@authenticated
async def account(request: Request, caller: Caller) -> Response:
    acc = caller.account
    with_ = with_values(query_dict(request))
    data: JSONDictT = {
        "id": acc.id,
        "name": acc.name,
        "subdomain": acc.subdomain,
        "created_at": acc.created_at,
        "created_by": 0,
        "updated_at": acc.created_at,
        "updated_by": 0,
        "current_user_id": caller.user.id,
        "country": acc.country,
        "currency": acc.currency,
        "currency_symbol": acc.currency_symbol,
        "customers_mode": "disabled",
        "is_unsorted_on": True,
        "mobile_feature_version": 0,
        "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False,
        "is_technical_account": acc.is_technical_account,
        "contact_name_display_order": 1,
    }
    embedded: JSONDictT = {}
    if "amojo_id" in with_:
        data["amojo_id"] = acc.amojo_id
    if "uuid" in with_:
        data["uuid"] = acc.uuid
    if "version" in with_:
        data["version"] = 10_000
    if "drive_url" in with_:
        data["drive_url"] = f"https://drive-b.{acc.base_domain}"
    if "is_api_filter_enabled" in with_:
        data["is_api_filter_enabled"] = True
    if "amojo_rights" in with_:
        data["amojo_rights"] = {"can_direct": True, "can_create_groups": True}
    if "users_groups" in with_:
        embedded["users_groups"] = [
            {"id": g.id, "name": g.name, "uuid": None}
            for g in caller.emulator.state.groups.values()
            if g.account_id == acc.id
        ]
    if "task_types" in with_:
        embedded["task_types"] = TASK_TYPES
    if "datetime_settings" in with_:
        embedded["datetime_settings"] = {
            "date_pattern": "d.m.Y H:i",
            "short_date_pattern": "d.m.Y",
            "short_time_pattern": "H:i",
            "date_format": "d.m.Y",
            "time_format": "H:i:s",
            "timezone": "Europe/Moscow" if not acc.is_kommo else "Asia/Dubai",
            "timezone_offset": "+03:00" if not acc.is_kommo else "+04:00",
        }
    if "entity_names" in with_:
        embedded["entity_names"] = {
            "leads": {"ru": {"gender": "f", "singular_form": {"nominative": "сделка"}}}
        }
    data["_links"] = caller.link("/api/v4/account")
    if embedded:
        data["_embedded"] = embedded
    return hal(data)


@authenticated
async def user(request: Request, caller: Caller) -> Response:
    user_id = to_int(request.path_params["user_id"])
    # amoCRM documents users methods as admin-only (403 otherwise, confirmed by its
    # maintainers); the `users_self_read` switch lets a user read their own record.
    own = user_id == caller.user.id and caller.emulator.switches.users_self_read
    if not caller.is_admin and not own:
        return forbidden()
    target = caller.emulator.state.users.get(user_id) if user_id is not None else None
    if target is None or caller.emulator.state.membership(target.id, caller.account.id) is None:
        return no_content()
    return hal(user_json(caller, target, with_values(query_dict(request))))


@authenticated
async def users(request: Request, caller: Caller) -> Response:
    if not caller.is_admin:
        return forbidden()
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    if errors:
        return bad_query(errors)
    state = caller.emulator.state
    everyone = sorted(
        (state.users[m.user_id] for m in state.members_of(caller.account.id)),
        key=lambda u: u.id,
    )
    chunk, has_next = page_of(everyone, paging)
    if not chunk:
        return no_content()
    with_ = with_values(query)
    return hal(
        {
            "_total_items": len(everyone),
            "_page": paging.page,
            "_page_count": -(-len(everyone) // paging.limit),
            "_links": page_links(request, caller, "/api/v4/users", paging, has_next),
            "_embedded": {"users": [user_json(caller, u, with_) for u in chunk]},
        }
    )
