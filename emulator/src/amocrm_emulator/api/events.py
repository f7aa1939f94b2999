"""`GET /api/v4/events`: the history of leads, contacts and tasks, per the user's rights."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api.common import (
    Caller,
    as_list,
    authenticated,
    bad_query,
    in_range,
    int_list,
    paged_answer,
    query_dict,
    read_paging,
    since_filter,
)
from amocrm_emulator.api.entities import event_json
from amocrm_emulator.http import FieldError, hal, no_content
from amocrm_emulator.state.models import Event, JSONDict

MAX_EVENTS_LIMIT = 100
EVENT_ENTITIES = ("lead", "contact", "task")
MAX_LISTED_IDS = 10
VALUE_FILTER_KEYS = frozenset({"leads_statuses", "responsible_user_id"})


def _visible(caller: Caller, event: Event) -> bool:
    state = caller.emulator.state
    if event.account_id != caller.account.id:
        return False
    if event.entity_type == "lead":
        lead = state.leads.get(event.entity_id)
        return lead is not None and caller.can_see_lead(lead)
    if event.entity_type == "contact":
        contact = state.contacts.get(event.entity_id)
        return contact is not None and caller.can_see_contact(contact)
    task = state.tasks.get(event.entity_id)
    return task is not None and caller.can_see_task(task)


def _values_match(
    values: list[JSONDict], wanted: dict[str, Any], path: str, errors: list[FieldError]
) -> bool:
    """`filter[value_after|value_before]`: `[leads_statuses][i][pipeline_id|status_id]` and
    `[responsible_user_id]=1,2` (amoCRM documents no other keys)."""
    matched = True
    if "leads_statuses" in wanted:
        pairs = {
            (str(item.get("pipeline_id")), str(item.get("status_id")))
            for item in as_list(wanted["leads_statuses"])
            if isinstance(item, dict)
        }
        stages = {
            (str(v["lead_status"].get("pipeline_id")), str(v["lead_status"].get("id")))
            for v in values
            if "lead_status" in v
        }
        matched = matched and bool(pairs & stages)
    if "responsible_user_id" in wanted:
        raw = wanted["responsible_user_id"]
        text = ",".join(str(v) for v in as_list(raw))
        owners = set(int_list(text.split(","), f"{path}.responsible_user_id", errors))
        users = {v["responsible_user"].get("id") for v in values if "responsible_user" in v}
        matched = matched and bool(owners & users)
    return matched


def _event_filter(caller: Caller, query: dict[str, Any], errors: list[FieldError]) -> list[Event]:
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    events = [e for e in caller.emulator.state.events if _visible(caller, e)]
    if "entity" in filters:
        entities = {str(e).rstrip("s") for e in as_list(filters["entity"])}
        if entities - set(EVENT_ENTITIES):
            errors.append(
                FieldError("NotSupportedChoice", "filter.entity", "Unknown entity of events")
            )
        events = [e for e in events if e.entity_type in entities]
    if "entity_id" in filters:
        # amoCRM wants exactly one entity with ids; without any, ids match every entity.
        if len(as_list(filters.get("entity"))) > 1:
            errors.append(
                FieldError("InvalidValue", "filter.entity_id", "Exactly one filter[entity] needed")
            )
        ids = set(int_list(filters["entity_id"], "filter.entity_id", errors))
        if len(ids) > MAX_LISTED_IDS:
            errors.append(FieldError("InvalidValue", "filter.entity_id", "At most 10 ids"))
        events = [e for e in events if e.entity_id in ids]
    if "type" in filters:
        types = {t.strip() for raw in as_list(filters["type"]) for t in str(raw).split(",")}
        events = [e for e in events if e.type in types]
    if "id" in filters:
        wanted_ids = {str(i) for i in as_list(filters["id"])}
        events = [e for e in events if e.id in wanted_ids]
    if "created_by" in filters:
        authors = set(int_list(filters["created_by"], "filter.created_by", errors))
        if len(authors) > MAX_LISTED_IDS:
            errors.append(FieldError("InvalidValue", "filter.created_by", "At most 10 ids"))
        events = [e for e in events if e.created_by in authors]
    if "created_at" in filters:
        created = since_filter(filters["created_at"], "filter.created_at", errors)
        events = [e for e in events if in_range(e.created_at, created)]
    for side in ("value_after", "value_before"):
        wanted = filters.get(side)
        if wanted is None:
            continue
        if not isinstance(wanted, dict):
            errors.append(FieldError("InvalidType", f"filter.{side}", "An object expected"))
            continue
        if set(wanted) - VALUE_FILTER_KEYS:
            errors.append(
                FieldError("NotSupportedChoice", f"filter.{side}", "Unsupported value filter")
            )
        events = [
            e for e in events if _values_match(getattr(e, side), wanted, f"filter.{side}", errors)
        ]
    # amoCRM documents no order; newest first is what its UI and most captures show.
    events.sort(key=lambda e: (e.created_at, e.id), reverse=True)
    return events


@authenticated
async def list_events(request: Request, caller: Caller) -> Response:
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors, max_limit=MAX_EVENTS_LIMIT)
    events = _event_filter(caller, query, errors)
    if errors:
        return bad_query(errors)
    return paged_answer(
        request,
        caller,
        "/api/v4/events",
        paging,
        "events",
        events,
        lambda e: event_json(caller, e),
    )


@authenticated
async def get_event(request: Request, caller: Caller) -> Response:
    wanted = request.path_params["event_id"]
    event = next((e for e in caller.emulator.state.events if e.id == wanted), None)
    if event is None or not _visible(caller, event):
        return no_content()
    return hal(event_json(caller, event))
