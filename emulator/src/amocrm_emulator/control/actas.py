"""`/_emulator/act-as/{user_id}` and `/_emulator/webhook-deliveries`.

Act-as does what a person does in amoCRM's web UI: the change goes through the same code as
the API (rights, validation, events, webhooks) with that user as the author, so a test can
make "another broker" move a lead and watch the hooks and events it leaves. The answer is
the API's answer to the same change (status and body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api import changes
from amocrm_emulator.api.activity import add_notes
from amocrm_emulator.api.common import Caller, rights_refused, to_int
from amocrm_emulator.api.leads import add_leads, edit_leads
from amocrm_emulator.api.tasks import add_tasks, edit_tasks
from amocrm_emulator.core import Emulator
from amocrm_emulator.http import FieldError, plain_json, problem, read_json, validation_errors


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _caller(emulator: Emulator, user_id: int, account_id: Any) -> Caller | Response:
    """The user as a caller of the account they act in (by default the default account)."""
    state = emulator.state
    user = state.users.get(user_id)
    wanted = to_int(account_id) if account_id is not None else emulator.default_account_id
    member = state.membership(user_id, wanted or 0)
    if member is None and account_id is None:
        member = next((m for m in state.memberships if m.user_id == user_id), None)
    if user is None or member is None or not member.is_active:
        return problem(404, "No such user in that account")
    account = state.accounts[member.account_id]
    return Caller(emulator, account, user, member, "", f"https://{account.host}")


def _fields(data: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: data[name] for name in names if name in data}


LEAD_FIELDS = (
    "name",
    "price",
    "status_id",
    "pipeline_id",
    "responsible_user_id",
    "loss_reason_id",
    "custom_fields_values",
)
TASK_FIELDS = (
    "text",
    "complete_till",
    "task_type_id",
    "responsible_user_id",
    "entity_type",
    "entity_id",
    "duration",
    "is_completed",
    "result",
)


def _delete_lead(caller: Caller, data: dict[str, Any]) -> Response:
    lead = caller.emulator.state.leads.get(to_int(data.get("lead_id")) or 0)
    if lead is None or lead.account_id != caller.account.id or lead.is_deleted:
        return problem(404, "No such lead")
    if not caller.can_see_lead(lead):
        return rights_refused(caller)
    lead.is_deleted = True
    lead.updated_by, lead.updated_at = caller.user.id, caller.emulator.clock.now_int()
    changes.lead_deleted(caller, lead)
    caller.emulator.changed()
    return Response(status_code=204)


def _complete_task(caller: Caller, data: dict[str, Any]) -> Response:
    body: dict[str, Any] = {"is_completed": True}
    if data.get("result_text") is not None:
        body["result"] = {"text": data["result_text"]}
    return edit_tasks(caller, body, to_int(data.get("task_id")) or 0)


def _add_note(caller: Caller, data: dict[str, Any]) -> Response:
    note = {
        "entity_id": data.get("lead_id"),
        "note_type": data.get("note_type", "common"),
        "params": data.get("params", {"text": data.get("text")}),
    }
    return add_notes(caller, [note])


ACTIONS: dict[str, Callable[[Caller, dict[str, Any]], Response]] = {
    "create_lead": lambda caller, data: add_leads(caller, [_fields(data, *LEAD_FIELDS)]),
    "update_lead": lambda caller, data: edit_leads(
        caller, _fields(data, *LEAD_FIELDS), to_int(data.get("lead_id")) or 0
    ),
    "delete_lead": _delete_lead,
    "add_note": _add_note,
    "add_task": lambda caller, data: add_tasks(caller, [_fields(data, *TASK_FIELDS)]),
    "update_task": lambda caller, data: edit_tasks(
        caller, _fields(data, *TASK_FIELDS), to_int(data.get("task_id")) or 0
    ),
    "complete_task": _complete_task,
}


async def act_as(request: Request) -> Response:
    emulator = _emulator(request)
    ok, data = await read_json(request)
    if not ok or not isinstance(data, dict):
        return problem(400, "A JSON object is expected")
    action = ACTIONS.get(str(data.get("action")))
    if action is None:
        detail = f"action must be one of {', '.join(ACTIONS)}"
        return validation_errors({0: [FieldError("NotSupportedChoice", "action", detail)]})
    user_id = to_int(request.path_params["user_id"])
    caller = _caller(emulator, user_id or 0, data.get("account_id"))
    if isinstance(caller, Response):
        return caller
    return action(caller, data)


async def webhook_deliveries(request: Request) -> Response:
    emulator = _emulator(request)
    if request.method == "DELETE":
        emulator.webhooks.clear()
        return plain_json({"status": "cleared"})
    destination = request.query_params.get("destination")
    event = request.query_params.get("event")
    rows = [
        d.as_json()
        for d in emulator.webhooks.deliveries
        if (destination is None or d.destination == destination)
        and (event is None or d.event == event)
    ]
    return plain_json({"deliveries": rows})
