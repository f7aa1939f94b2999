"""What every change to the CRM leaves behind: its events and its webhooks.

The API handlers and the act-as controls make changes through the same code, so a change a
test makes "as a user in the web UI" records the same events and sends the same hooks as one
made through the API; `created_by` / `modified_user_id` is always the acting user.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from amocrm_emulator.api.common import Caller
from amocrm_emulator.state.models import Contact, JSONDict, Lead, Note, Task
from amocrm_emulator.webhooks import payloads

RecordT = TypeVar("RecordT", Lead, Task)


def _event(
    caller: Caller,
    entity_type: str,
    entity_id: int,
    event_type: str,
    at: int,
    *,
    before: list[JSONDict] | None = None,
    after: list[JSONDict] | None = None,
) -> None:
    caller.emulator.state.add_event(
        caller.account.id,
        entity_id,
        event_type,
        caller.user.id,
        at,
        entity_type=entity_type,
        value_before=before,
        value_after=after,
    )


def _hook(caller: Caller, entity_key: str, action: str, item: JSONDict) -> None:
    caller.emulator.webhooks.emit(caller.account, entity_key, action, item)


def snapshot(record: RecordT) -> RecordT:
    """A copy of a record before a change, to compare with afterwards."""
    return dataclasses.replace(record)


# ---- leads -----------------------------------------------------------------------------------
def lead_added(caller: Caller, lead: Lead) -> None:
    _event(caller, "lead", lead.id, "lead_added", lead.created_at)
    _hook(caller, "leads", "add", payloads.lead_item(lead, caller.user.id))


def lead_updated(caller: Caller, before: Lead, lead: Lead) -> None:
    """Events for each changed field; `update_lead` always, `status_`/`responsible_` on top.

    amoCRM documents no exclusion of no-op or self-made updates, so `update_lead` is sent for
    every accepted edit, even one that changed nothing (receivers must bear echoes).
    """
    at = lead.updated_at
    moved = (before.status_id, before.pipeline_id) != (lead.status_id, lead.pipeline_id)
    if moved:
        _event(
            caller,
            "lead",
            lead.id,
            "lead_status_changed",
            at,
            before=[{"lead_status": {"id": before.status_id, "pipeline_id": before.pipeline_id}}],
            after=[{"lead_status": {"id": lead.status_id, "pipeline_id": lead.pipeline_id}}],
        )
    handed_over = before.responsible_user_id != lead.responsible_user_id
    if handed_over:
        _event(
            caller,
            "lead",
            lead.id,
            "entity_responsible_changed",
            at,
            before=[{"responsible_user": {"id": before.responsible_user_id}}],
            after=[{"responsible_user": {"id": lead.responsible_user_id}}],
        )
    if before.price != lead.price:
        _event(
            caller,
            "lead",
            lead.id,
            "sale_field_changed",
            at,
            before=[{"sale_field_value": {"sale": before.price}}],
            after=[{"sale_field_value": {"sale": lead.price}}],
        )
    if before.name != lead.name:
        _event(
            caller,
            "lead",
            lead.id,
            "name_field_changed",
            at,
            before=[{"name_field_value": {"name": before.name}}],
            after=[{"name_field_value": {"name": lead.name}}],
        )
    _hook(caller, "leads", "update", payloads.lead_item(lead, caller.user.id))
    if moved:
        item = payloads.lead_item(lead, caller.user.id, old_status_id=before.status_id)
        _hook(caller, "leads", "status", item)
    if handed_over:
        item = payloads.lead_item(
            lead, caller.user.id, old_responsible_user_id=before.responsible_user_id
        )
        _hook(caller, "leads", "responsible", item)


def lead_deleted(caller: Caller, lead: Lead) -> None:
    _event(caller, "lead", lead.id, "lead_deleted", lead.updated_at)
    _hook(caller, "leads", "delete", payloads.deleted_lead_item(lead))


def note_added(caller: Caller, note: Note) -> None:
    event_type = "common_note_added" if note.note_type == "common" else "note_added"
    _event(
        caller,
        "lead",
        note.entity_id,
        event_type,
        note.created_at,
        after=[{"note": {"id": note.id}}],
    )
    _hook(caller, "leads", "note", payloads.note_item(note))


# ---- contacts --------------------------------------------------------------------------------
def contact_added(caller: Caller, contact: Contact) -> None:
    _event(caller, "contact", contact.id, "contact_added", contact.created_at)
    _hook(caller, "contacts", "add", payloads.contact_item(contact, caller.user.id))


# ---- tasks -----------------------------------------------------------------------------------
def task_added(caller: Caller, task: Task) -> None:
    _event(caller, "task", task.id, "task_added", task.created_at)
    _hook(caller, "task", "add", payloads.task_item(task))


def task_updated(caller: Caller, before: Task, task: Task) -> None:
    at = task.updated_at
    closed_now = task.is_completed and not before.is_completed
    if closed_now:
        _event(caller, "task", task.id, "task_completed", at)
    if task.result.get("text") and task.result != before.result:
        _event(caller, "task", task.id, "task_result_added", at)
    if task.text != before.text:
        _event(caller, "task", task.id, "task_text_changed", at)
    if task.complete_till != before.complete_till:
        _event(caller, "task", task.id, "task_deadline_changed", at)
    if task.task_type_id != before.task_type_id:
        _event(caller, "task", task.id, "task_type_changed", at)
    handed_over = task.responsible_user_id != before.responsible_user_id
    if handed_over:
        _event(
            caller,
            "task",
            task.id,
            "entity_responsible_changed",
            at,
            before=[{"responsible_user": {"id": before.responsible_user_id}}],
            after=[{"responsible_user": {"id": task.responsible_user_id}}],
        )
    old_text = before.text if task.text != before.text else None
    _hook(
        caller,
        "task",
        "update",
        payloads.task_item(task, closed_now=closed_now, old_text=old_text),
    )
    if handed_over:
        item = payloads.task_item(
            task,
            old_responsible_user_id=before.responsible_user_id,
            modified_by=caller.user.id,
        )
        _hook(caller, "task", "responsible", item)
