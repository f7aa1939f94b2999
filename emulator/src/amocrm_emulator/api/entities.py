"""Entities as amoCRM writes them in API v4 answers, and custom-field values read from bodies."""

from __future__ import annotations

from typing import Any

from amocrm_emulator.api.common import Caller, to_int
from amocrm_emulator.http import FieldError
from amocrm_emulator.state.models import (
    Contact,
    CustomField,
    Event,
    JSONDict,
    Lead,
    Note,
    Pipeline,
    Status,
    Task,
    User,
)


def tag_json(caller: Caller, tag_ids: list[int]) -> list[JSONDict]:
    tags = caller.emulator.state.tags
    return [
        {"id": tags[i].id, "name": tags[i].name, "color": tags[i].color}
        for i in tag_ids
        if i in tags
    ]


def closest_task_at(caller: Caller, entity_type: str, entity_id: int) -> int | None:
    times = [
        t.complete_till
        for t in caller.emulator.state.tasks.values()
        if t.entity_type == entity_type and t.entity_id == entity_id and not t.is_completed
    ]
    return min(times) if times else None


def lead_json(caller: Caller, lead: Lead, with_: set[str]) -> JSONDict:
    embedded: JSONDict = {"tags": tag_json(caller, lead.tag_ids), "companies": []}
    if "contacts" in with_:
        embedded["contacts"] = [
            {
                "id": cid,
                "is_main": cid == lead.main_contact_id,
                "_links": caller.link(f"/api/v4/contacts/{cid}"),
            }
            for cid in lead.contact_ids
            if cid in caller.emulator.state.contacts
        ]
    if "loss_reason" in with_:
        embedded["loss_reason"] = []
    data: JSONDict = {
        "id": lead.id,
        "name": lead.name,
        "price": lead.price,
        "responsible_user_id": lead.responsible_user_id,
        "group_id": lead.group_id,
        "status_id": lead.status_id,
        "pipeline_id": lead.pipeline_id,
        "loss_reason_id": lead.loss_reason_id,
        "created_by": lead.created_by,
        "updated_by": lead.updated_by,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
        "closed_at": lead.closed_at,
        "closest_task_at": closest_task_at(caller, "leads", lead.id),
        "is_deleted": lead.is_deleted,
        "custom_fields_values": lead.custom_fields_values or None,
        "score": None,
        "account_id": lead.account_id,
        "labor_cost": None,
    }
    if "is_price_modified_by_robot" in with_:
        data["is_price_modified_by_robot"] = False
    if "source_id" in with_:
        data["source_id"] = None
    data["_links"] = caller.link(f"/api/v4/leads/{lead.id}")
    data["_embedded"] = embedded
    return data


def contact_json(caller: Caller, contact: Contact, with_: set[str]) -> JSONDict:
    embedded: JSONDict = {"tags": tag_json(caller, contact.tag_ids), "companies": []}
    if "leads" in with_:
        embedded["leads"] = [
            {"id": lead.id, "_links": caller.link(f"/api/v4/leads/{lead.id}")}
            for lead in caller.emulator.state.leads.values()
            if contact.id in lead.contact_ids and caller.can_see_lead(lead)
        ]
    if "customers" in with_:
        embedded["customers"] = []
    return {
        "id": contact.id,
        "name": contact.name,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "responsible_user_id": contact.responsible_user_id,
        "group_id": contact.group_id,
        "created_by": contact.created_by,
        "updated_by": contact.updated_by,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
        "closest_task_at": closest_task_at(caller, "contacts", contact.id),
        "is_deleted": contact.is_deleted,
        "is_unsorted": False,
        "custom_fields_values": contact.custom_fields_values or None,
        "account_id": contact.account_id,
        "_links": caller.link(f"/api/v4/contacts/{contact.id}"),
        "_embedded": embedded,
    }


def status_json(caller: Caller, pipeline: Pipeline, status: Status) -> JSONDict:
    return {
        "id": status.id,
        "name": status.name,
        "sort": status.sort,
        "is_editable": status.is_editable,
        "pipeline_id": pipeline.id,
        "color": status.color,
        "type": status.type,
        "account_id": pipeline.account_id,
        "_links": caller.link(f"/api/v4/leads/pipelines/{pipeline.id}/statuses/{status.id}"),
    }


def pipeline_json(caller: Caller, pipeline: Pipeline) -> JSONDict:
    return {
        "id": pipeline.id,
        "name": pipeline.name,
        "sort": pipeline.sort,
        "is_main": pipeline.is_main,
        "is_unsorted_on": pipeline.is_unsorted_on,
        "is_archive": pipeline.is_archive,
        "account_id": pipeline.account_id,
        "_links": caller.link(f"/api/v4/leads/pipelines/{pipeline.id}"),
        "_embedded": {"statuses": [status_json(caller, pipeline, s) for s in pipeline.statuses]},
    }


def note_json(caller: Caller, note: Note) -> JSONDict:
    return {
        "id": note.id,
        "entity_id": note.entity_id,
        "created_by": note.created_by,
        "updated_by": note.updated_by,
        "created_at": note.created_at,
        "updated_at": note.updated_at,
        "responsible_user_id": note.responsible_user_id,
        "group_id": note.group_id,
        "note_type": note.note_type,
        "params": note.params,
        "account_id": note.account_id,
        "_links": caller.link(f"/api/v4/{note.entity_type}/{note.entity_id}/notes/{note.id}"),
    }


def task_json(caller: Caller, task: Task) -> JSONDict:
    return {
        "id": task.id,
        "created_by": task.created_by,
        "updated_by": task.updated_by,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "responsible_user_id": task.responsible_user_id,
        "group_id": task.group_id,
        "entity_id": task.entity_id,
        "entity_type": task.entity_type,
        "duration": task.duration,
        "is_completed": task.is_completed,
        "task_type_id": task.task_type_id,
        "text": task.text,
        # amoCRM writes a missing result as an empty array.
        "result": {"text": task.result["text"]} if task.result.get("text") else [],
        "complete_till": task.complete_till,
        "account_id": task.account_id,
        "_links": caller.link(f"/api/v4/tasks/{task.id}"),
    }


def event_json(caller: Caller, event: Event) -> JSONDict:
    return {
        "id": event.id,
        "type": event.type,
        "entity_id": event.entity_id,
        "entity_type": event.entity_type,
        "created_by": event.created_by,
        "created_at": event.created_at,
        "value_after": event.value_after,
        "value_before": event.value_before,
        "account_id": event.account_id,
        "_links": caller.link(f"/api/v4/events/{event.id}"),
        "_embedded": {
            "entity": {
                "id": event.entity_id,
                "_links": caller.link(f"/api/v4/{event.entity_type}s/{event.entity_id}"),
            }
        },
    }


def user_json(caller: Caller, user: User, with_: set[str]) -> JSONDict:
    member = caller.emulator.state.membership(user.id, caller.account.id)
    is_admin = member is not None and member.role == "admin"
    view = (
        "A"
        if is_admin or (member and member.leads_view == "all")
        else ("G" if member and member.leads_view == "group" else "M")
    )
    data: JSONDict = {
        "id": user.id,
        "name": user.name,
        "email": user.login,
        "lang": user.lang,
        "rights": {
            "leads": {"view": view, "edit": view, "add": "A", "delete": view, "export": view},
            "contacts": {"view": view, "edit": view, "add": "A", "delete": view, "export": view},
            "companies": {"view": view, "edit": view, "add": "A", "delete": view, "export": view},
            "tasks": {"edit": view, "delete": view},
            "mail_access": False,
            "catalog_access": False,
            "status_rights": [],
            "is_admin": is_admin,
            "is_free": False,
            "is_active": member.is_active if member else False,
            "group_id": member.group_id if member else None,
            "role_id": None,
        },
        "_links": caller.link(f"/api/v4/users/{user.id}"),
    }
    embedded: JSONDict = {}
    if "group" in with_ and member is not None:
        group = caller.emulator.state.groups.get(member.group_id)
        embedded["groups"] = [{"id": group.id, "name": group.name}] if group else []
    if "role" in with_:
        embedded["roles"] = []
    if "uuid" in with_:
        data["uuid"] = user.uuid
    if "amojo_id" in with_:
        data["amojo_id"] = user.uuid
    if embedded:
        data["_embedded"] = embedded
    return data


# ---- custom field values in request bodies --------------------------------------------------
def read_field_values(
    caller: Caller, entity_type: str, raw: Any, path: str, errors: list[FieldError]
) -> list[JSONDict] | None:
    """Validate `custom_fields_values` of a body and write them the way amoCRM stores them."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors.append(FieldError("InvalidType", path, "custom_fields_values must be an array"))
        return None
    state = caller.emulator.state
    out: list[JSONDict] = []
    for index, entry in enumerate(raw):
        where = f"{path}.{index}"
        if not isinstance(entry, dict):
            errors.append(FieldError("InvalidType", where, "Each value must be an object"))
            continue
        field: CustomField | None = None
        field_id = to_int(entry.get("field_id")) if entry.get("field_id") is not None else None
        if field_id is not None:
            field = state.custom_fields.get(field_id)
            if field and (
                field.account_id != caller.account.id or field.entity_type != entity_type
            ):
                field = None
        elif isinstance(entry.get("field_code"), str):
            field = state.field_by_code(caller.account.id, entity_type, entry["field_code"].upper())
        if field is None:
            errors.append(
                FieldError(
                    "NotSupportedChoice", f"{where}.field_id", "The custom field does not exist"
                )
            )
            continue
        values = entry.get("values")
        if not isinstance(values, list) or not values:
            errors.append(FieldError("InvalidType", f"{where}.values", "values must be an array"))
            continue
        stored_values = []
        for vindex, item in enumerate(values):
            vpath = f"{where}.values.{vindex}"
            stored = _field_value(field, item, vpath, errors)
            if stored is not None:
                stored_values.append(stored)
        out.append(
            {
                "field_id": field.id,
                "field_name": field.name,
                "field_code": field.code,
                "field_type": field.type,
                "values": stored_values,
            }
        )
    return out


def _field_value(
    field: CustomField, item: Any, path: str, errors: list[FieldError]
) -> JSONDict | None:
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", path, "A value must be an object"))
        return None
    value = item.get("value")
    if field.type == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            errors.append(FieldError("InvalidType", f"{path}.value", "A number is expected"))
            return None
        try:
            float(value)
        except ValueError:
            errors.append(FieldError("InvalidType", f"{path}.value", "A number is expected"))
            return None
        return {"value": str(value)}
    if field.type == "select":
        enums = field.enums or []
        enum_id = to_int(item.get("enum_id")) if item.get("enum_id") is not None else None
        match = next((e for e in enums if e["id"] == enum_id or e["value"] == value), None)
        if match is None:
            errors.append(FieldError("NotSupportedChoice", path, "Unknown option of the field"))
            return None
        return {"value": match["value"], "enum_id": match["id"], "enum_code": None}
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or value == "":
        errors.append(FieldError("InvalidType", f"{path}.value", "A non-empty text is expected"))
        return None
    stored: JSONDict = {"value": str(value)}
    if field.type == "multitext":
        code = item.get("enum_code") if isinstance(item.get("enum_code"), str) else "WORK"
        enums = field.enums or []
        match = next((e for e in enums if e["value"] == code), None)
        if match is None:
            errors.append(
                FieldError(
                    "NotSupportedChoice", f"{path}.enum_code", "Unknown enum_code of the field"
                )
            )
            return None
        stored.update({"enum_id": match["id"], "enum_code": match["value"]})
    return stored
