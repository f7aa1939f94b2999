"""Tasks: `GET/POST/PATCH /api/v4/tasks` and `GET/PATCH /api/v4/tasks/{id}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api import changes
from amocrm_emulator.api.activity import visible_lead_id
from amocrm_emulator.api.common import (
    Added,
    Caller,
    PlannedEdit,
    RightsRefused,
    as_list,
    authenticated,
    bad_query,
    edit_batch,
    in_range,
    int_list,
    paged_answer,
    query_dict,
    range_filter,
    read_body,
    read_order,
    read_paging,
    since_filter,
    store_batch,
    to_int,
)
from amocrm_emulator.api.entities import task_json
from amocrm_emulator.http import FieldError, hal, no_content, problem
from amocrm_emulator.state.models import Task

TASK_TYPES = (1, 2)
TASK_ENTITIES = ("leads", "contacts")
TASK_ORDER_FIELDS = ("created_at", "complete_till", "id")


# ---- fields shared by add and edit -----------------------------------------------------------
def _entity(caller: Caller, item: dict[str, Any], errors: list[FieldError]) -> int | None:
    """The id of the lead or contact `entity_type` + `entity_id` name, if the caller sees it."""
    entity_type = item.get("entity_type")
    if entity_type not in TASK_ENTITIES:
        errors.append(
            FieldError("NotSupportedChoice", "entity_type", "entity_type must be leads or contacts")
        )
        return None
    if entity_type == "leads":
        entity_id = visible_lead_id(caller, item.get("entity_id"))
    else:
        cid = to_int(item.get("entity_id"))
        contact = caller.emulator.state.contacts.get(cid) if cid is not None else None
        entity_id = contact.id if contact and caller.can_see_contact(contact) else None
    if entity_id is None:
        errors.append(FieldError("NotSupportedChoice", "entity_id", "The entity does not exist"))
    return entity_id


def _text(item: dict[str, Any], errors: list[FieldError]) -> str | None:
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        errors.append(FieldError("InvalidType", "text", "text must be a non-empty string"))
        return None
    return text.strip()


def _deadline(item: dict[str, Any], errors: list[FieldError]) -> int | None:
    complete_till = to_int(item.get("complete_till"))
    if complete_till is None or complete_till <= 0:
        errors.append(FieldError("InvalidType", "complete_till", "A Unix timestamp is expected"))
        return None
    return complete_till


def _task_type(item: dict[str, Any], errors: list[FieldError]) -> int | None:
    task_type = to_int(item.get("task_type_id"))
    if task_type not in TASK_TYPES:
        errors.append(FieldError("NotSupportedChoice", "task_type_id", "Unknown task type"))
        return None
    return task_type


def _duration(item: dict[str, Any], errors: list[FieldError]) -> int | None:
    duration = to_int(item.get("duration"))
    if duration is None or duration < 0:
        errors.append(FieldError("InvalidType", "duration", "duration must be seconds"))
        return None
    return duration


def _responsible(caller: Caller, item: dict[str, Any], errors: list[FieldError]) -> int | None:
    wanted = to_int(item.get("responsible_user_id"))
    member = (
        caller.emulator.state.membership(wanted, caller.account.id) if wanted is not None else None
    )
    if member is None or not member.is_active:
        errors.append(
            FieldError(
                "NotSupportedChoice",
                "responsible_user_id",
                "The user does not exist in the account",
            )
        )
        return None
    return member.user_id


def _result(item: dict[str, Any], errors: list[FieldError]) -> str | None:
    result = item.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("text"), str):
        errors.append(FieldError("InvalidType", "result.text", "result must be {text}"))
        return None
    return str(result["text"])


# ---- add -------------------------------------------------------------------------------------
def _read_task(caller: Caller, item: Any, errors: list[FieldError]) -> Task | None:
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each task must be an object"))
        return None
    text = _text(item, errors)
    complete_till = _deadline(item, errors)
    entity_id: int | None = None
    has_entity = item.get("entity_type") is not None or item.get("entity_id") is not None
    if has_entity:
        entity_id = _entity(caller, item, errors)
    task_type = _task_type(item, errors) if "task_type_id" in item else 1
    responsible = (
        _responsible(caller, item, errors) if "responsible_user_id" in item else caller.user.id
    )
    duration = _duration(item, errors) if "duration" in item else 0
    if (
        errors
        or text is None
        or complete_till is None
        or task_type is None
        or responsible is None
        or duration is None
    ):
        return None
    member = caller.emulator.state.membership(responsible, caller.account.id)
    now = caller.emulator.clock.now_int()
    return Task(
        id=0,
        account_id=caller.account.id,
        entity_type=str(item["entity_type"]) if has_entity else None,
        entity_id=entity_id,
        responsible_user_id=responsible,
        group_id=member.group_id if member else caller.member.group_id,
        task_type_id=task_type,
        text=text,
        complete_till=complete_till,
        duration=duration,
        is_completed=False,
        result={},
        created_by=caller.user.id,
        updated_by=caller.user.id,
        created_at=now,
        updated_at=now,
    )


def add_tasks(caller: Caller, body: object) -> Response:
    """Create tasks from an add-request body (the API and the act-as control)."""
    state = caller.emulator.state

    def add(task: Task) -> Added:
        task.id = state.new_id("task")
        state.tasks[task.id] = task
        changes.task_added(caller, task)
        return Added(task.id, f"/api/v4/tasks/{task.id}")

    return store_batch(
        caller,
        body,
        "/api/v4/tasks",
        "tasks",
        lambda item, errors: _read_task(caller, item, errors),
        add,
    )


@authenticated
async def create_tasks(request: Request, caller: Caller) -> Response:
    body = await read_body(request, "tasks")
    return body if isinstance(body, Response) else add_tasks(caller, body)


# ---- edit ------------------------------------------------------------------------------------
def _plan_task_edit(caller: Caller, item: Any, errors: list[FieldError]) -> PlannedEdit | None:
    state = caller.emulator.state
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each task must be an object"))
        return None
    task_id = to_int(item.get("id"))
    task = state.tasks.get(task_id) if task_id is not None else None
    if task is None or task.account_id != caller.account.id:
        errors.append(FieldError("NotFound", "id", "The task does not exist"))
        return None
    if not caller.can_see_task(task):
        raise RightsRefused
    edits: dict[str, Any] = {}
    readers = {
        "text": _text,
        "complete_till": _deadline,
        "task_type_id": _task_type,
        "duration": _duration,
    }
    for name, read in readers.items():
        if name in item:
            edits[name] = read(item, errors)
    if "responsible_user_id" in item:
        edits["responsible_user_id"] = _responsible(caller, item, errors)
    if "entity_type" in item or "entity_id" in item:
        edits["entity_type"] = item.get("entity_type")
        edits["entity_id"] = _entity(caller, item, errors)
    if "is_completed" in item:
        if not isinstance(item["is_completed"], bool):
            errors.append(FieldError("InvalidType", "is_completed", "A boolean is expected"))
        edits["is_completed"] = item["is_completed"]
    # amoCRM documents completing with both `is_completed` and `result`; whether a completion
    # without a result is refused is not documented, so both are accepted.
    result_text = _result(item, errors) if item.get("result") is not None else None
    if errors:
        return None

    def commit() -> int:
        before = changes.snapshot(task)
        for name, value in edits.items():
            setattr(task, name, value)
        if "responsible_user_id" in edits:
            member = state.membership(task.responsible_user_id, caller.account.id)
            task.group_id = member.group_id if member else task.group_id
        if result_text is not None:
            task.result = {"id": state.new_id("note"), "text": result_text}
        task.updated_by, task.updated_at = caller.user.id, caller.emulator.clock.now_int()
        changes.task_updated(caller, before, task)
        return task.updated_at

    return PlannedEdit(task.id, f"/api/v4/tasks/{task.id}", commit)


def edit_tasks(caller: Caller, body: object, path_id: int | None = None) -> Response:
    """Apply a task `PATCH` body (the API and the act-as control)."""
    return edit_batch(
        caller,
        body,
        "/api/v4/tasks",
        "tasks",
        lambda item, errors: _plan_task_edit(caller, item, errors),
        path_id=path_id,
        echo_request_id=True,
    )


@authenticated
async def update_tasks(request: Request, caller: Caller) -> Response:
    body = await read_body(request, "tasks")
    return body if isinstance(body, Response) else edit_tasks(caller, body)


@authenticated
async def update_task(request: Request, caller: Caller) -> Response:
    body = await read_body(request, "tasks")
    if isinstance(body, Response):
        return body
    return edit_tasks(caller, body, request.path_params["task_id"])


@authenticated
async def delete_task(request: Request, caller: Caller) -> Response:
    # amoCRM has no task deletion in API v4; a DELETE was seen answered like this.
    return problem(403, "Invalid scope")


# ---- read ------------------------------------------------------------------------------------
def _task_filter(caller: Caller, query: dict[str, Any], errors: list[FieldError]) -> list[Task]:
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    tasks = [t for t in caller.emulator.state.tasks.values() if caller.can_see_task(t)]
    for name in ("id", "responsible_user_id", "created_by"):
        if name in filters:
            wanted = set(int_list(filters[name], f"filter.{name}", errors))
            tasks = [t for t in tasks if getattr(t, name) in wanted]
    # The PHP SDK sends the type under both names; either filters.
    for name in ("task_type", "task_type_id"):
        if name in filters:
            types = set(int_list(filters[name], f"filter.{name}", errors))
            tasks = [t for t in tasks if t.task_type_id in types]
    if "is_completed" in filters:
        flag = str(filters["is_completed"]).lower()
        if flag not in ("0", "1", "true", "false"):
            errors.append(FieldError("InvalidType", "filter.is_completed", "1 or 0 expected"))
        tasks = [t for t in tasks if t.is_completed == (flag in ("1", "true"))]
    if "entity_type" in filters:
        kinds = {str(k) for k in as_list(filters["entity_type"])}
        tasks = [t for t in tasks if t.entity_type in kinds]
    if "entity_id" in filters:
        if "entity_type" not in filters:
            errors.append(
                FieldError("InvalidValue", "filter.entity_id", "filter[entity_type] is required")
            )
        ids = set(int_list(filters["entity_id"], "filter.entity_id", errors))
        tasks = [t for t in tasks if t.entity_id in ids]
    if "updated_at" in filters:
        updated = since_filter(filters["updated_at"], "filter.updated_at", errors)
        tasks = [t for t in tasks if in_range(t.updated_at, updated)]
    if "complete_till" in filters and caller.emulator.switches.task_complete_till_filter:
        deadline = range_filter(filters["complete_till"], "filter.complete_till", errors)
        tasks = [t for t in tasks if in_range(t.complete_till, deadline)]
    field, descending = read_order(query, TASK_ORDER_FIELDS, errors)
    tasks.sort(key=lambda t: (getattr(t, field), t.id), reverse=descending)
    return tasks


@authenticated
async def list_tasks(request: Request, caller: Caller) -> Response:
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    tasks = _task_filter(caller, query, errors)
    if errors:
        return bad_query(errors)
    return paged_answer(
        request, caller, "/api/v4/tasks", paging, "tasks", tasks, lambda t: task_json(caller, t)
    )


@authenticated
async def get_task(request: Request, caller: Caller) -> Response:
    task = caller.emulator.state.tasks.get(request.path_params["task_id"])
    if task is None or not caller.can_see_task(task):
        return no_content()
    return hal(task_json(caller, task))
