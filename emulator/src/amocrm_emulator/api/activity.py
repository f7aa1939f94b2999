"""Notes, tasks, events and custom-field definitions of leads and contacts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api.common import (
    Added,
    Caller,
    as_list,
    authenticated,
    bad_query,
    create_batch,
    int_list,
    paged_answer,
    query_dict,
    read_paging,
    to_int,
)
from amocrm_emulator.api.entities import event_json, note_json, task_json
from amocrm_emulator.http import FieldError, JSONDictT, hal, no_content, validation_errors
from amocrm_emulator.state.models import Note, Task

MAX_EVENTS_LIMIT = 100
NOTE_TYPES = ("common", "call_in", "call_out", "service_message", "sms_in", "sms_out")
TASK_TYPES = (1, 2)
TASK_ENTITIES = ("leads", "contacts")


def _visible_lead_id(caller: Caller, value: Any) -> int | None:
    lead_id = to_int(value)
    lead = caller.emulator.state.leads.get(lead_id) if lead_id is not None else None
    return lead.id if lead is not None and caller.can_see_lead(lead) else None


# ---- notes ---------------------------------------------------------------------------------
@authenticated
async def list_notes(request: Request, caller: Caller) -> Response:
    lead_id = _visible_lead_id(caller, request.path_params["lead_id"])
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    if errors:
        return bad_query(errors)
    if lead_id is None:
        return no_content()
    raw_filter = query.get("filter")
    types = set(as_list(raw_filter.get("note_type"))) if isinstance(raw_filter, dict) else set()
    notes = sorted(
        (
            n
            for n in caller.emulator.state.notes.values()
            if n.entity_type == "leads"
            and n.entity_id == lead_id
            and (not types or n.note_type in types)
        ),
        key=lambda n: n.id,
    )
    return paged_answer(
        request,
        caller,
        f"/api/v4/leads/{lead_id}/notes",
        paging,
        "notes",
        notes,
        lambda n: note_json(caller, n),
    )


def _read_note(
    caller: Caller, item: Any, path_lead: int | None, errors: list[FieldError]
) -> Note | None:
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each note must be an object"))
        return None
    lead_id = (
        path_lead if path_lead is not None else _visible_lead_id(caller, item.get("entity_id"))
    )
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


@authenticated
async def create_notes(request: Request, caller: Caller) -> Response:
    path_lead: int | None = None
    if "lead_id" in request.path_params:
        path_lead = _visible_lead_id(caller, request.path_params["lead_id"])
        if path_lead is None:
            return validation_errors(
                {0: [FieldError("NotSupportedChoice", "entity_id", "The lead does not exist")]}
            )
    state = caller.emulator.state

    def add(note: Note) -> Added:
        note.id = state.new_id("note")
        state.notes[note.id] = note
        lead = state.leads[note.entity_id]
        lead.updated_at = note.created_at
        state.add_lead_event(
            note.account_id,
            note.entity_id,
            f"{note.note_type}_note_added" if note.note_type == "common" else "note_added",
            caller.user.id,
            note.created_at,
            value_after=[{"note": {"id": note.id}}],
        )
        return Added(
            note.id,
            f"/api/v4/leads/{note.entity_id}/notes/{note.id}",
            {"entity_id": note.entity_id},
        )

    return await create_batch(
        request,
        caller,
        "/api/v4/leads/notes",
        "notes",
        lambda item, errors: _read_note(caller, item, path_lead, errors),
        add,
    )


# ---- tasks ---------------------------------------------------------------------------------
def _read_task(caller: Caller, item: Any, errors: list[FieldError]) -> Task | None:
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each task must be an object"))
        return None
    state = caller.emulator.state
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append(FieldError("InvalidType", "text", "text must be a non-empty string"))
    complete_till = to_int(item.get("complete_till"))
    if complete_till is None or complete_till <= 0:
        errors.append(FieldError("InvalidType", "complete_till", "A Unix timestamp is expected"))
    entity_type = item.get("entity_type")
    entity_id: int | None = None
    if entity_type is not None or item.get("entity_id") is not None:
        if entity_type not in TASK_ENTITIES:
            errors.append(
                FieldError(
                    "NotSupportedChoice", "entity_type", "entity_type must be leads or contacts"
                )
            )
        elif entity_type == "leads":
            entity_id = _visible_lead_id(caller, item.get("entity_id"))
        else:
            cid = to_int(item.get("entity_id"))
            contact = state.contacts.get(cid) if cid is not None else None
            entity_id = contact.id if contact and caller.can_see_contact(contact) else None
        if entity_type in TASK_ENTITIES and entity_id is None:
            errors.append(
                FieldError("NotSupportedChoice", "entity_id", "The entity does not exist")
            )
    task_type = to_int(item.get("task_type_id", 1))
    if task_type not in TASK_TYPES:
        errors.append(FieldError("NotSupportedChoice", "task_type_id", "Unknown task type"))
    responsible = caller.user.id
    if "responsible_user_id" in item:
        wanted = to_int(item["responsible_user_id"])
        member = state.membership(wanted, caller.account.id) if wanted is not None else None
        if member is None:
            errors.append(
                FieldError(
                    "NotSupportedChoice",
                    "responsible_user_id",
                    "The user does not exist in the account",
                )
            )
        else:
            responsible = member.user_id
    duration = to_int(item.get("duration", 0))
    if duration is None or duration < 0:
        errors.append(FieldError("InvalidType", "duration", "duration must be seconds"))
    if errors or complete_till is None or task_type is None or not isinstance(text, str):
        return None
    member = state.membership(responsible, caller.account.id)
    now = caller.emulator.clock.now_int()
    return Task(
        id=0,
        account_id=caller.account.id,
        entity_type=entity_type if isinstance(entity_type, str) else None,
        entity_id=entity_id,
        responsible_user_id=responsible,
        group_id=member.group_id if member else caller.member.group_id,
        task_type_id=task_type,
        text=text.strip(),
        complete_till=complete_till,
        duration=duration or 0,
        is_completed=False,
        result={},
        created_by=caller.user.id,
        updated_by=caller.user.id,
        created_at=now,
        updated_at=now,
    )


@authenticated
async def create_tasks(request: Request, caller: Caller) -> Response:
    state = caller.emulator.state

    def add(task: Task) -> Added:
        task.id = state.new_id("task")
        state.tasks[task.id] = task
        return Added(task.id, f"/api/v4/tasks/{task.id}")

    return await create_batch(
        request,
        caller,
        "/api/v4/tasks",
        "tasks",
        lambda item, errors: _read_task(caller, item, errors),
        add,
    )


def _task_visible(caller: Caller, task: Task) -> bool:
    if task.account_id != caller.account.id:
        return False
    if caller.is_admin or caller.member.leads_view == "all":
        return True
    if caller.member.leads_view == "group":
        return task.group_id == caller.member.group_id or task.responsible_user_id == caller.user.id
    return task.responsible_user_id == caller.user.id


@authenticated
async def list_tasks(request: Request, caller: Caller) -> Response:
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    tasks = [t for t in caller.emulator.state.tasks.values() if _task_visible(caller, t)]
    if "responsible_user_id" in filters:
        owners = set(int_list(filters["responsible_user_id"], "filter.responsible_user_id", errors))
        tasks = [t for t in tasks if t.responsible_user_id in owners]
    if "entity_type" in filters:
        tasks = [t for t in tasks if t.entity_type == filters["entity_type"]]
    if "entity_id" in filters:
        ids = set(int_list(filters["entity_id"], "filter.entity_id", errors))
        tasks = [t for t in tasks if t.entity_id in ids]
    if "is_completed" in filters:
        done = str(filters["is_completed"]) in ("1", "true")
        tasks = [t for t in tasks if t.is_completed == done]
    if errors:
        return bad_query(errors)
    tasks.sort(key=lambda t: t.id)
    return paged_answer(
        request, caller, "/api/v4/tasks", paging, "tasks", tasks, lambda t: task_json(caller, t)
    )


# ---- events ----------------------------------------------------------------------------------
@authenticated
async def list_events(request: Request, caller: Caller) -> Response:
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors, max_limit=MAX_EVENTS_LIMIT)
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    entities = {str(e) for e in as_list(filters.get("entity"))}
    if entities - {"lead", "leads"}:
        errors.append(
            FieldError("NotSupportedChoice", "filter.entity", "Only lead events are available")
        )
    ids = (
        set(int_list(filters["entity_id"], "filter.entity_id", errors))
        if "entity_id" in filters
        else None
    )
    types = {str(t) for t in as_list(filters.get("type"))}
    if errors:
        return bad_query(errors)
    leads = caller.emulator.state.leads
    events = [
        e
        for e in caller.emulator.state.events
        if e.account_id == caller.account.id
        and (ids is None or e.entity_id in ids)
        and (not types or e.type in types)
        and e.entity_id in leads
        and caller.can_see_lead(leads[e.entity_id])
    ]
    events.sort(key=lambda e: (e.created_at, e.id), reverse=True)
    return paged_answer(
        request,
        caller,
        "/api/v4/events",
        paging,
        "events",
        events,
        lambda e: event_json(caller, e),
    )


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
