"""Webhook bodies as amoCRM sends them: form-encoded PHP-bracket keys, API v2 item shapes.

`leads[status][0][id]=…&…&account[subdomain]=…`: every value is a string, custom fields are
`custom_fields[i][id|name|values][j][value|enum]`, tasks use the singular `task[...]` key and
notes nest under `leads[note][0][note][...]` (shared/reference amocrm-webhooks-tasks §1.3).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from amocrm_emulator.state.models import Account, Contact, JSONDict, Lead, Note, Task

USER_AGENT = "amoCRM-WebHook-client/1.0"
CONTENT_TYPE = "application/x-www-form-urlencoded"

# `note_type` as v2 numbers it; `element_type` of the entity a task or note belongs to.
NOTE_TYPE_CODES = {
    "common": 4,
    "call_in": 10,
    "call_out": 11,
    "service_message": 25,
    "sms_in": 102,
    "sms_out": 103,
}
ELEMENT_TYPES = {"contacts": 1, "leads": 2, "companies": 3, "customers": 12}

# The `settings` name of each (body key, action): `leads`/`status` → `status_lead`.
_ENTITY_EVENT_NOUN = {"leads": "lead", "contacts": "contact", "task": "task"}


def event_name(entity_key: str, action: str) -> str:
    return f"{action}_{_ENTITY_EVENT_NOUN[entity_key]}"


def encode(account: Account, entity_key: str, action: str, item: JSONDict) -> str:
    """The form body of one hook: the item under `{entity_key}[{action}][0]`, then the account."""
    pairs: list[tuple[str, str]] = []
    _flatten(f"{entity_key}[{action}][0]", item, pairs)
    _flatten(
        "account",
        {
            "subdomain": account.subdomain,
            "id": account.id,
            "_links": {"self": f"https://{account.host}"},
        },
        pairs,
    )
    return urlencode(pairs)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    elif value is None:
        out.append((prefix, ""))
    elif isinstance(value, bool):
        out.append((prefix, "1" if value else "0"))
    else:
        out.append((prefix, str(value)))


def _v2_fields(values: list[JSONDict] | None) -> list[JSONDict]:
    """`custom_fields_values` of API v4 in the v2 shape hooks still use."""
    fields = []
    for entry in values or []:
        field: JSONDict = {"id": entry["field_id"], "name": entry["field_name"]}
        if entry.get("field_code"):
            field["code"] = entry["field_code"]
        field["values"] = [
            {"value": v.get("value"), **({"enum": v["enum_id"]} if v.get("enum_id") else {})}
            for v in entry.get("values", [])
        ]
        fields.append(field)
    return fields


def _datetime_text(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d %H:%M:%S")


def lead_item(
    lead: Lead,
    modified_by: int,
    *,
    old_status_id: int | None = None,
    old_responsible_user_id: int | None = None,
) -> JSONDict:
    item: JSONDict = {"id": lead.id, "name": lead.name, "status_id": lead.status_id}
    if old_status_id is not None:
        item["old_status_id"] = old_status_id
    item["price"] = lead.price
    item["responsible_user_id"] = lead.responsible_user_id
    if old_responsible_user_id is not None:
        item["old_responsible_user_id"] = old_responsible_user_id
    item.update(
        {
            "last_modified": lead.updated_at,
            "modified_user_id": modified_by,
            "created_user_id": lead.created_by,
            "date_create": lead.created_at,
            "pipeline_id": lead.pipeline_id,
            "account_id": lead.account_id,
        }
    )
    fields = _v2_fields(lead.custom_fields_values)
    if fields:
        item["custom_fields"] = fields
    item["created_at"] = lead.created_at
    item["updated_at"] = lead.updated_at
    return item


def deleted_lead_item(lead: Lead) -> JSONDict:
    return {"id": lead.id, "status_id": lead.status_id, "pipeline_id": lead.pipeline_id}


def contact_item(contact: Contact, modified_by: int) -> JSONDict:
    item: JSONDict = {
        "id": contact.id,
        "name": contact.name,
        "responsible_user_id": contact.responsible_user_id,
        "date_create": contact.created_at,
        "last_modified": contact.updated_at,
        "created_user_id": contact.created_by,
        "modified_user_id": modified_by,
        "account_id": contact.account_id,
    }
    fields = _v2_fields(contact.custom_fields_values)
    if fields:
        item["custom_fields"] = fields
    item.update(
        {"created_at": contact.created_at, "updated_at": contact.updated_at, "type": "contact"}
    )
    return item


def note_item(note: Note) -> JSONDict:
    return {
        "note": {
            "id": note.id,
            "text": str(note.params.get("text", "")),
            "note_type": NOTE_TYPE_CODES.get(note.note_type, 4),
            "element_type": ELEMENT_TYPES.get(note.entity_type, 2),
            "element_id": note.entity_id,
            "created_by": note.created_by,
            "main_user_id": note.responsible_user_id,
            "metadata": json.dumps(note.params, ensure_ascii=False),
            "created_at": note.created_at,
            "updated_at": note.updated_at,
        }
    }


def task_item(
    task: Task,
    *,
    closed_now: bool = False,
    old_text: str | None = None,
    old_responsible_user_id: int | None = None,
    modified_by: int | None = None,
) -> JSONDict:
    item: JSONDict = {
        "id": task.id,
        "element_id": task.entity_id or 0,
        "element_type": ELEMENT_TYPES.get(task.entity_type or "", 0),
        "date_create": _datetime_text(task.created_at),
        "last_modified": _datetime_text(task.updated_at),
        "status": "1" if task.is_completed else "0",
        "complete_till": _datetime_text(task.complete_till),
        "task_type": task.task_type_id,
        "created_user_id": task.created_by,
        "responsible_user_id": task.responsible_user_id,
        "text": task.text,
        "account_id": task.account_id,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }
    if closed_now:
        item["action_close"] = "1"
    if old_text is not None:
        item["old_text"] = old_text
    if task.result.get("text"):
        item["result"] = {"id": task.result.get("id", task.id), "text": task.result["text"]}
    if old_responsible_user_id is not None:
        item["old_responsible_user_id"] = old_responsible_user_id
        item["modified_by"] = modified_by if modified_by is not None else task.updated_by
        item["main_user"] = task.responsible_user_id
    return item
