"""What changed, read from a webhook form or from amoCRM's events: entity, id, responsible users.

Nothing else of a webhook is trusted: a broker is told only that an entity changed, and any
detail is read again from amoCRM with a broker's own token.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from foryou.live.form import Form

Entity = Literal["lead", "task", "contact"]
# The form's entity keys (tasks come singular) and the entity they name.
_ENTITY_KEYS: dict[str, Entity] = {"leads": "lead", "task": "task", "contacts": "contact"}
_ACTIONS = frozenset({"add", "update", "delete", "restore", "status", "responsible", "note"})


@dataclass(frozen=True)
class Change:
    account_id: int
    entity: Entity
    action: str
    entity_id: int
    # The responsible users before and after (an assignment names both).
    responsible_ids: tuple[int, ...]
    # The user this change made responsible (a new lead, or a new responsible), else None.
    assigned_to: int | None
    # Identical items (amoCRM's retries, echoes) have the same fingerprint.
    fingerprint: str


def _int(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit() and len(value) <= 19:
        return int(value)
    return None


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def account_of(form: Form) -> int | None:
    account = form.get("account")
    return _int(account.get("id")) if isinstance(account, dict) else None


def changes_of(form: Form, account_id: int) -> list[Change]:
    """Every known item of the form; unknown entities, actions and broken items are skipped."""
    found: list[Change] = []
    for key, entity in _ENTITY_KEYS.items():
        actions = form.get(key)
        if not isinstance(actions, dict):
            continue
        for action, items in actions.items():
            if action not in _ACTIONS or not isinstance(items, dict):
                continue
            for item in items.values():
                change = _change(account_id, entity, action, item)
                if change is not None:
                    found.append(change)
    return found


def _change(account_id: int, entity: Entity, action: str, item: Any) -> Change | None:
    if not isinstance(item, dict):
        return None
    fingerprint = _fingerprint(account_id, entity, action, item)
    if action == "note":
        # `leads[note][0][note][element_id]`: a note changed the lead it is on.
        note = item.get("note")
        lead_id = _int(note.get("element_id")) if isinstance(note, dict) else None
        if lead_id is None:
            return None
        return Change(account_id, entity, action, lead_id, (), None, fingerprint)
    entity_id = _int(item.get("id"))
    if entity_id is None:
        return None
    responsible = _int(item.get("responsible_user_id"))
    previous = _int(item.get("old_responsible_user_id"))
    ids = tuple(sorted({i for i in (responsible, previous) if i}))
    assigned = responsible if action in ("add", "responsible") and responsible else None
    if entity == "task":
        # A task item names its lead as element_id with element_type 2.
        assigned = None
    return Change(account_id, entity, action, entity_id, ids, assigned, fingerprint)


def tasks_to_resolve(events: list[dict[str, Any]]) -> list[int]:
    """Tasks whose events do not say whom they belong to (an event names only the task): their
    responsible users are read from amoCRM, or no broker's board would hear of them."""
    return sorted(
        {
            event["entity_id"]
            for event in events
            if event.get("entity_type") == "task" and isinstance(event.get("entity_id"), int)
        }
    )


def changes_of_events(
    events: list[dict[str, Any]], account_id: int, task_owners: dict[int, int] | None = None
) -> list[Change]:
    """The same changes, read from `GET /api/v4/events` (the poll when no webhook is set);
    `task_owners` maps a task to its responsible user as amoCRM shows it now."""
    found: list[Change] = []
    for event in events:
        kind = event.get("entity_type")
        entity_id = event.get("entity_id")
        if kind not in ("lead", "task", "contact") or not isinstance(entity_id, int):
            continue
        responsible: set[int] = set()
        assigned: int | None = None
        if event.get("type") == "entity_responsible_changed":
            for side in ("value_before", "value_after"):
                for value in event.get(side) or []:
                    user = value.get("responsible_user") if isinstance(value, dict) else None
                    user_id = user.get("id") if isinstance(user, dict) else None
                    if isinstance(user_id, int):
                        responsible.add(user_id)
                        if side == "value_after" and kind == "lead":
                            assigned = user_id
        if kind == "task" and task_owners and entity_id in task_owners:
            responsible.add(task_owners[entity_id])
        found.append(
            Change(
                account_id,
                kind,
                str(event.get("type") or "update"),
                entity_id,
                tuple(sorted(responsible)),
                assigned,
                _fingerprint("event", event.get("id")),
            )
        )
    return found
