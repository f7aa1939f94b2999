"""Contacts: `GET/POST /api/v4/contacts`, `GET /api/v4/contacts/{id}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api import changes
from amocrm_emulator.api.common import (
    Added,
    Caller,
    as_list,
    authenticated,
    bad_query,
    create_batch,
    field_value_texts,
    int_list,
    paged_answer,
    query_dict,
    range_filter,
    read_order,
    read_paging,
    read_responsible,
    to_int,
    with_values,
)
from amocrm_emulator.api.entities import contact_json, read_field_values
from amocrm_emulator.http import FieldError, hal, no_content
from amocrm_emulator.state.models import Contact

ORDER_FIELDS = ("updated_at", "id")


def _search_text(contact: Contact) -> str:
    parts = [str(contact.id), contact.name, *field_value_texts(contact.custom_fields_values)]
    return " ".join(parts).lower()


@authenticated
async def list_contacts(request: Request, caller: Caller) -> Response:
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    found = [c for c in caller.emulator.state.contacts.values() if caller.can_see_contact(c)]
    if "id" in filters:
        ids = set(int_list(filters["id"], "filter.id", errors))
        found = [c for c in found if c.id in ids]
    if "name" in filters:
        names = {str(n).lower() for n in as_list(filters["name"])}
        found = [c for c in found if c.name.lower() in names]
    if "responsible_user_id" in filters:
        owners = set(int_list(filters["responsible_user_id"], "filter.responsible_user_id", errors))
        found = [c for c in found if c.responsible_user_id in owners]
    for name in ("created_at", "updated_at"):
        if name in filters:
            low, high = range_filter(filters[name], f"filter.{name}", errors)
            found = [
                c
                for c in found
                if (low is None or getattr(c, name) >= low)
                and (high is None or getattr(c, name) <= high)
            ]
    search = query.get("query")
    if isinstance(search, str) and search.strip():
        needle = search.strip().lower()
        found = [c for c in found if needle in _search_text(c)]
    field, descending = read_order(query, ORDER_FIELDS, errors)
    if errors:
        return bad_query(errors)
    found.sort(key=lambda c: (getattr(c, field), c.id), reverse=descending)
    with_ = with_values(query)
    return paged_answer(
        request,
        caller,
        "/api/v4/contacts",
        paging,
        "contacts",
        found,
        lambda c: contact_json(caller, c, with_),
    )


@authenticated
async def get_contact(request: Request, caller: Caller) -> Response:
    contact_id = to_int(request.path_params["contact_id"])
    contact = caller.emulator.state.contacts.get(contact_id) if contact_id is not None else None
    if contact is None or not caller.can_see_contact(contact):
        return no_content()
    return hal(contact_json(caller, contact, with_values(query_dict(request))))


def _read_contact(caller: Caller, item: Any, errors: list[FieldError]) -> Contact | None:
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each contact must be an object"))
        return None
    texts: dict[str, str] = {}
    for key in ("name", "first_name", "last_name"):
        value = item.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.append(FieldError("InvalidType", key, f"{key} must be a string"))
            value = ""
        texts[key] = value.strip()
    name = texts["name"] or " ".join(p for p in (texts["first_name"], texts["last_name"]) if p)
    responsible = read_responsible(caller, item, errors)
    fields = read_field_values(
        caller, "contacts", item.get("custom_fields_values"), "custom_fields_values", errors
    )
    if errors:
        return None
    member = caller.emulator.state.membership(responsible, caller.account.id)
    now = caller.emulator.clock.now_int()
    return Contact(
        id=0,
        account_id=caller.account.id,
        name=name or "Контакт",
        first_name=texts["first_name"],
        last_name=texts["last_name"],
        responsible_user_id=responsible,
        group_id=member.group_id if member else caller.member.group_id,
        created_by=caller.user.id,
        updated_by=caller.user.id,
        created_at=now,
        updated_at=now,
        custom_fields_values=fields or None,
    )


@authenticated
async def create_contacts(request: Request, caller: Caller) -> Response:
    state = caller.emulator.state

    def add(contact: Contact) -> Added:
        contact.id = state.new_id("contact")
        state.contacts[contact.id] = contact
        changes.contact_added(caller, contact)
        return Added(contact.id, f"/api/v4/contacts/{contact.id}")

    return await create_batch(
        request,
        caller,
        "/api/v4/contacts",
        "contacts",
        lambda item, errors: _read_contact(caller, item, errors),
        add,
    )
