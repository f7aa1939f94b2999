"""Notes of leads and custom-field definitions of leads and contacts."""

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
    in_range,
    int_list,
    paged_answer,
    query_dict,
    read_body,
    read_order,
    read_paging,
    since_filter,
    store_batch,
    to_int,
)
from amocrm_emulator.api.entities import note_json
from amocrm_emulator.http import FieldError, JSONDictT, hal, no_content, validation_errors
from amocrm_emulator.state.models import Note

NOTE_TYPES = ("common", "call_in", "call_out", "service_message", "sms_in", "sms_out")
NOTE_ORDER_FIELDS = ("updated_at", "id")


def visible_lead_id(caller: Caller, value: Any) -> int | None:
    lead_id = to_int(value)
    lead = caller.emulator.state.leads.get(lead_id) if lead_id is not None else None
    return lead.id if lead is not None and caller.can_see_lead(lead) else None


# ---- notes ---------------------------------------------------------------------------------
def _note_answer(
    request: Request, caller: Caller, path: str, lead_ids: set[int] | None
) -> Response:
    """Notes of visible leads (only of `lead_ids` when given), with amoCRM's list filters."""
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    types = {str(t) for t in as_list(filters.get("note_type"))}
    ids = set(int_list(filters["id"], "filter.id", errors)) if "id" in filters else None
    if "entity_id" in filters:
        wanted = set(int_list(filters["entity_id"], "filter.entity_id", errors))
        lead_ids = wanted if lead_ids is None else lead_ids & wanted
    updated = (
        since_filter(filters["updated_at"], "filter.updated_at", errors)
        if "updated_at" in filters
        else None
    )
    field, descending = read_order(query, NOTE_ORDER_FIELDS, errors)
    if errors:
        return bad_query(errors)
    leads = caller.emulator.state.leads
    notes = [
        n
        for n in caller.emulator.state.notes.values()
        if n.entity_type == "leads"
        and n.account_id == caller.account.id
        and (lead_ids is None or n.entity_id in lead_ids)
        and n.entity_id in leads
        and caller.can_see_lead(leads[n.entity_id])
        and (not types or n.note_type in types)
        and (ids is None or n.id in ids)
        and (updated is None or in_range(n.updated_at, updated))
    ]
    notes.sort(key=lambda n: (getattr(n, field), n.id), reverse=descending)
    return paged_answer(
        request, caller, path, paging, "notes", notes, lambda n: note_json(caller, n)
    )


@authenticated
async def list_lead_notes(request: Request, caller: Caller) -> Response:
    lead_id = visible_lead_id(caller, request.path_params["lead_id"])
    if lead_id is None:
        return no_content()
    return _note_answer(request, caller, f"/api/v4/leads/{lead_id}/notes", {lead_id})


@authenticated
async def list_notes(request: Request, caller: Caller) -> Response:
    return _note_answer(request, caller, "/api/v4/leads/notes", None)


@authenticated
async def get_note(request: Request, caller: Caller) -> Response:
    lead_id = visible_lead_id(caller, request.path_params["lead_id"])
    note = caller.emulator.state.notes.get(request.path_params["note_id"])
    if lead_id is None or note is None or note.entity_id != lead_id:
        return no_content()
    return hal(note_json(caller, note))


def _read_note(
    caller: Caller, item: Any, path_lead: int | None, errors: list[FieldError]
) -> Note | None:
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each note must be an object"))
        return None
    lead_id = path_lead if path_lead is not None else visible_lead_id(caller, item.get("entity_id"))
    if lead_id is None:
        errors.append(FieldError("NotSupportedChoice", "entity_id", "The lead does not exist"))
    note_type = item.get("note_type")
    if note_type not in NOTE_TYPES:
        errors.append(
            FieldError(
                "NotSupportedChoice",
                "note_type",
                f"note_type must be one of {', '.join(NOTE_TYPES)}",
            )
        )
    params = item.get("params")
    if not isinstance(params, dict):
        errors.append(FieldError("InvalidType", "params", "params must be an object"))
    elif note_type == "common" and (
        not isinstance(params.get("text"), str) or not params["text"].strip()
    ):
        errors.append(FieldError("InvalidType", "params.text", "text must be a non-empty string"))
    if errors or lead_id is None or not isinstance(params, dict) or not isinstance(note_type, str):
        return None
    now = caller.emulator.clock.now_int()
    return Note(
        id=0,
        account_id=caller.account.id,
        entity_type="leads",
        entity_id=lead_id,
        note_type=note_type,
        params=params,
        responsible_user_id=caller.user.id,
        group_id=caller.member.group_id,
        created_by=caller.user.id,
        updated_by=caller.user.id,
        created_at=now,
        updated_at=now,
    )


def add_notes(caller: Caller, body: object, path_lead: int | None = None) -> Response:
    """Add lead notes from an add-request body (the API and the act-as control)."""
    state = caller.emulator.state

    def add(note: Note) -> Added:
        note.id = state.new_id("note")
        state.notes[note.id] = note
        state.leads[note.entity_id].updated_at = note.created_at
        changes.note_added(caller, note)
        return Added(
            note.id,
            f"/api/v4/leads/{note.entity_id}/notes/{note.id}",
            {"entity_id": note.entity_id},
        )

    return store_batch(
        caller,
        body,
        "/api/v4/leads/notes",
        "notes",
        lambda item, errors: _read_note(caller, item, path_lead, errors),
        add,
    )


@authenticated
async def create_notes(request: Request, caller: Caller) -> Response:
    path_lead: int | None = None
    if "lead_id" in request.path_params:
        path_lead = visible_lead_id(caller, request.path_params["lead_id"])
        if path_lead is None:
            return validation_errors(
                {0: [FieldError("NotSupportedChoice", "entity_id", "The lead does not exist")]}
            )
    body = await read_body(request, "notes")
    return body if isinstance(body, Response) else add_notes(caller, body, path_lead)


# ---- custom field definitions ----------------------------------------------------------------
def _fields(caller: Caller, entity_type: str) -> Response:
    items: list[JSONDictT] = [
        {
            "id": f.id,
            "name": f.name,
            "type": f.type,
            "account_id": f.account_id,
            "code": f.code,
            "sort": f.sort,
            "is_api_only": False,
            "enums": f.enums,
            "group_id": None,
            "required_statuses": [],
            "is_deletable": f.code is None,
            "is_predefined": f.code is not None,
            "entity_type": entity_type,
            "_links": caller.link(f"/api/v4/{entity_type}/custom_fields/{f.id}"),
        }
        for f in caller.emulator.state.account_fields(caller.account.id, entity_type)
    ]
    return hal(
        {
            "_total_items": len(items),
            "_page": 1,
            "_page_count": 1,
            "_links": caller.link(f"/api/v4/{entity_type}/custom_fields"),
            "_embedded": {"custom_fields": items},
        }
    )


@authenticated
async def lead_fields(request: Request, caller: Caller) -> Response:
    return _fields(caller, "leads")


@authenticated
async def contact_fields(request: Request, caller: Caller) -> Response:
    return _fields(caller, "contacts")
