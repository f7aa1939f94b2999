"""Leads and pipelines: `GET/POST/PATCH /api/v4/leads`, `/api/v4/leads/{id}`, pipelines."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api import changes
from amocrm_emulator.api.common import (
    Added,
    Caller,
    InvalidBody,
    PlannedEdit,
    RightsRefused,
    as_list,
    authenticated,
    bad_query,
    edit_batch,
    field_value_texts,
    int_list,
    paged_answer,
    query_dict,
    range_filter,
    read_body,
    read_order,
    read_paging,
    read_responsible,
    store_batch,
    to_int,
    with_values,
)
from amocrm_emulator.api.entities import lead_json, pipeline_json, read_field_values, status_json
from amocrm_emulator.http import FieldError, hal, no_content
from amocrm_emulator.state.models import Lead, Pipeline, Status, Tag
from amocrm_emulator.state.seed import LOST_STATUS_ID, WON_STATUS_ID

ORDER_FIELDS = ("created_at", "updated_at", "id")


def _search_text(caller: Caller, lead: Lead) -> str:
    parts = [str(lead.id), lead.name, *field_value_texts(lead.custom_fields_values)]
    contacts = caller.emulator.state.contacts
    for cid in lead.contact_ids:
        contact = contacts.get(cid)
        if contact is None:
            continue
        parts.append(contact.name)
        parts.extend(field_value_texts(contact.custom_fields_values))
    return " ".join(parts).lower()


def _lead_filter(caller: Caller, query: dict[str, Any], errors: list[FieldError]) -> list[Lead]:
    raw_filter = query.get("filter")
    filters: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    leads = [lead for lead in caller.emulator.state.leads.values() if caller.can_see_lead(lead)]

    if "id" in filters:
        ids = set(int_list(filters["id"], "filter.id", errors))
        leads = [lead for lead in leads if lead.id in ids]
    if "name" in filters:
        names = {str(n).lower() for n in as_list(filters["name"])}
        leads = [lead for lead in leads if lead.name.lower() in names]
    if "pipeline_id" in filters:
        pipelines = set(int_list(filters["pipeline_id"], "filter.pipeline_id", errors))
        leads = [lead for lead in leads if lead.pipeline_id in pipelines]
    if "statuses" in filters:
        pairs: set[tuple[int, int]] = set()
        for item in as_list(filters["statuses"]):
            pipeline_id = to_int(item.get("pipeline_id")) if isinstance(item, dict) else None
            status_id = to_int(item.get("status_id")) if isinstance(item, dict) else None
            if pipeline_id is None or status_id is None:
                errors.append(
                    FieldError(
                        "InvalidType",
                        "filter.statuses",
                        "Each item needs pipeline_id and status_id",
                    )
                )
            else:
                pairs.add((pipeline_id, status_id))
        leads = [lead for lead in leads if (lead.pipeline_id, lead.status_id) in pairs]
    if "responsible_user_id" in filters:
        owners = set(int_list(filters["responsible_user_id"], "filter.responsible_user_id", errors))
        leads = [lead for lead in leads if lead.responsible_user_id in owners]
    for name in ("created_at", "updated_at", "closed_at", "price"):
        if name in filters:
            low, high = range_filter(filters[name], f"filter.{name}", errors)
            leads = [
                lead
                for lead in leads
                if (value := getattr(lead, name)) is not None
                and (low is None or value >= low)
                and (high is None or value <= high)
            ]
    search = query.get("query")
    if isinstance(search, str) and search.strip():
        needle = search.strip().lower()
        leads = [lead for lead in leads if needle in _search_text(caller, lead)]

    field, descending = read_order(query, ORDER_FIELDS, errors)
    leads.sort(key=lambda lead: (getattr(lead, field), lead.id), reverse=descending)
    return leads


@authenticated
async def list_leads(request: Request, caller: Caller) -> Response:
    query = query_dict(request)
    errors: list[FieldError] = []
    paging = read_paging(query, errors)
    leads = _lead_filter(caller, query, errors)
    if errors:
        return bad_query(errors)
    with_ = with_values(query)
    return paged_answer(
        request,
        caller,
        "/api/v4/leads",
        paging,
        "leads",
        leads,
        lambda lead: lead_json(caller, lead, with_),
    )


@authenticated
async def get_lead(request: Request, caller: Caller) -> Response:
    lead_id = to_int(request.path_params["lead_id"])
    lead = caller.emulator.state.leads.get(lead_id) if lead_id is not None else None
    if lead is None or not caller.can_see_lead(lead):
        return no_content()
    return hal(lead_json(caller, lead, with_values(query_dict(request))))


def _read_lead(caller: Caller, item: Any, errors: list[FieldError]) -> Lead | None:
    state = caller.emulator.state
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each lead must be an object"))
        return None
    name = item.get("name", "")
    if not isinstance(name, (str, int)) or isinstance(name, bool):
        errors.append(FieldError("InvalidType", "name", "name must be a string"))
        name = ""
    price = item.get("price", 0)
    if price is None:
        price = 0
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        errors.append(FieldError("InvalidType", "price", "price must be a non-negative integer"))
        price = 0
    pipelines = state.account_pipelines(caller.account.id)
    pipeline = next((p for p in pipelines if p.is_main), pipelines[0] if pipelines else None)
    if "pipeline_id" in item:
        wanted = to_int(item["pipeline_id"])
        pipeline = next((p for p in pipelines if p.id == wanted), None)
        if pipeline is None:
            errors.append(
                FieldError("NotSupportedChoice", "pipeline_id", "The pipeline does not exist")
            )
    status_id: int | None = None
    if pipeline is not None:
        regular = [s for s in pipeline.statuses if s.type == 0]
        status_id = regular[0].id if regular else None
    if "status_id" in item:
        wanted = to_int(item["status_id"])
        if "pipeline_id" not in item:
            owner = next((p for p in pipelines if any(s.id == wanted for s in p.statuses)), None)
            pipeline = (
                owner
                if owner is not None and wanted not in (WON_STATUS_ID, LOST_STATUS_ID)
                else pipeline
            )
        if pipeline is None or not any(s.id == wanted for s in pipeline.statuses):
            errors.append(
                FieldError(
                    "NotSupportedChoice", "status_id", "The status does not exist in the pipeline"
                )
            )
        else:
            status_id = wanted
    responsible = read_responsible(caller, item, errors)
    fields = read_field_values(
        caller, "leads", item.get("custom_fields_values"), "custom_fields_values", errors
    )
    tag_ids, contact_ids = _embedded_refs(caller, item.get("_embedded"), errors)
    if errors or pipeline is None or status_id is None:
        if not errors:
            errors.append(FieldError("NotSupportedChoice", "pipeline_id", "No pipeline"))
        return None
    member = state.membership(responsible, caller.account.id)
    now = caller.emulator.clock.now_int()
    closed = now if status_id in (WON_STATUS_ID, LOST_STATUS_ID) else None
    return Lead(
        id=0,
        account_id=caller.account.id,
        name=str(name) or f"Сделка #{now}",
        price=price,
        responsible_user_id=responsible,
        group_id=member.group_id if member else caller.member.group_id,
        status_id=status_id,
        pipeline_id=pipeline.id,
        created_by=caller.user.id,
        updated_by=caller.user.id,
        created_at=now,
        updated_at=now,
        closed_at=closed,
        custom_fields_values=fields or None,
        tag_ids=tag_ids,
        contact_ids=contact_ids,
        main_contact_id=contact_ids[0] if contact_ids else None,
    )


def _embedded_refs(
    caller: Caller, embedded: Any, errors: list[FieldError]
) -> tuple[list[int], list[int]]:
    if embedded is None:
        return [], []
    if not isinstance(embedded, dict):
        errors.append(FieldError("InvalidType", "_embedded", "_embedded must be an object"))
        return [], []
    state = caller.emulator.state
    tag_ids: list[int] = []
    for index, tag in enumerate(as_list(embedded.get("tags"))):
        if isinstance(tag, dict) and to_int(tag.get("id")) in state.tags:
            tag_ids.append(int(tag["id"]))
        elif isinstance(tag, dict) and isinstance(tag.get("name"), str) and tag["name"].strip():
            name = tag["name"].strip()
            found = next(
                (
                    t
                    for t in state.tags.values()
                    if t.account_id == caller.account.id and t.name == name
                ),
                None,
            )
            if found is None:
                found = Tag(
                    id=state.new_id("tag"),
                    account_id=caller.account.id,
                    entity_type="leads",
                    name=name,
                    color=None,
                )
                state.tags[found.id] = found
            tag_ids.append(found.id)
        else:
            errors.append(
                FieldError("InvalidType", f"_embedded.tags.{index}", "A tag needs an id or a name")
            )
    contact_ids: list[int] = []
    for index, ref in enumerate(as_list(embedded.get("contacts"))):
        cid = to_int(ref.get("id")) if isinstance(ref, dict) else None
        contact = state.contacts.get(cid) if cid is not None else None
        if contact is None or not caller.can_see_contact(contact):
            errors.append(
                FieldError(
                    "NotSupportedChoice",
                    f"_embedded.contacts.{index}.id",
                    "The contact does not exist",
                )
            )
        else:
            contact_ids.append(contact.id)
    return tag_ids, contact_ids


def add_leads(caller: Caller, body: object) -> Response:
    """Create leads from an add-request body (the API and the act-as control)."""
    state = caller.emulator.state

    def add(lead: Lead) -> Added:
        lead.id = state.new_id("lead")
        state.leads[lead.id] = lead
        changes.lead_added(caller, lead)
        return Added(lead.id, f"/api/v4/leads/{lead.id}")

    return store_batch(
        caller,
        body,
        "/api/v4/leads",
        "leads",
        lambda item, errors: _read_lead(caller, item, errors),
        add,
    )


@authenticated
async def create_leads(request: Request, caller: Caller) -> Response:
    body = await read_body(request, "leads")
    return body if isinstance(body, Response) else add_leads(caller, body)


# ---- edits -----------------------------------------------------------------------------------
def _stage_of_edit(
    caller: Caller, lead: Lead, item: dict[str, Any], errors: list[FieldError]
) -> tuple[int, int]:
    """The (pipeline_id, status_id) an edit moves the lead to; errors for impossible moves.

    Stage ids are global except won/lost, which exist in every pipeline: a `status_id` alone
    moves the lead to the pipeline owning that stage, won/lost alone stay in the current one.
    The unsorted stage is entered only through the Unsorted API, never by an edit.
    """
    pipelines = caller.emulator.state.account_pipelines(caller.account.id)
    pipeline_id, status_id = lead.pipeline_id, lead.status_id
    if "pipeline_id" in item:
        wanted = to_int(item["pipeline_id"])
        if not any(p.id == wanted for p in pipelines) or wanted is None:
            errors.append(
                FieldError("NotSupportedChoice", "pipeline_id", "The pipeline does not exist")
            )
            return pipeline_id, status_id
        pipeline_id = wanted
    if "status_id" not in item:
        if pipeline_id != lead.pipeline_id:
            errors.append(
                FieldError(
                    "NotSupportedChoice",
                    "status_id",
                    "status_id is required when the pipeline changes",
                )
            )
        return pipeline_id, status_id
    wanted_status = to_int(item["status_id"])
    if "pipeline_id" not in item and wanted_status not in (WON_STATUS_ID, LOST_STATUS_ID):
        owner = next((p for p in pipelines if any(s.id == wanted_status for s in p.statuses)), None)
        pipeline_id = owner.id if owner is not None else pipeline_id
    pipeline = next(p for p in pipelines if p.id == pipeline_id)
    stage: Status | None = next((s for s in pipeline.statuses if s.id == wanted_status), None)
    if stage is None:
        errors.append(
            FieldError(
                "NotSupportedChoice", "status_id", "The status does not exist in the pipeline"
            )
        )
    elif stage.type == 1:
        errors.append(
            FieldError(
                "NotSupportedChoice",
                "status_id",
                "A lead cannot be moved to the unsorted stage",
            )
        )
    else:
        status_id = stage.id
    return pipeline_id, status_id


def _plan_lead_edit(caller: Caller, item: Any, errors: list[FieldError]) -> PlannedEdit | None:
    state = caller.emulator.state
    if not isinstance(item, dict):
        errors.append(FieldError("InvalidType", "", "Each lead must be an object"))
        return None
    lead_id = to_int(item.get("id"))
    lead = state.leads.get(lead_id) if lead_id is not None else None
    if lead is None or lead.account_id != caller.account.id or lead.is_deleted:
        errors.append(FieldError("NotFound", "id", "The lead does not exist"))
        return None
    if not caller.can_see_lead(lead):
        raise RightsRefused
    name = lead.name
    if "name" in item:
        if not isinstance(item["name"], str) or not item["name"].strip():
            errors.append(FieldError("InvalidType", "name", "name must be a non-empty string"))
        else:
            name = item["name"]
    price = lead.price
    if "price" in item:
        value = item["price"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(
                FieldError("InvalidType", "price", "price must be a non-negative integer")
            )
        else:
            price = value
    responsible = (
        read_responsible(caller, item, errors)
        if "responsible_user_id" in item
        else lead.responsible_user_id
    )
    pipeline_id, status_id = _stage_of_edit(caller, lead, item, errors)
    loss_reason_id = lead.loss_reason_id
    if item.get("loss_reason_id") is not None:
        if status_id != LOST_STATUS_ID:
            raise InvalidBody({str(lead.id): "Loss reason can be specified only for lost lead"})
        loss_reason_id = to_int(item["loss_reason_id"])
        if loss_reason_id is None:
            errors.append(FieldError("InvalidType", "loss_reason_id", "An integer is expected"))
    fields = (
        read_field_values(
            caller, "leads", item["custom_fields_values"], "custom_fields_values", errors
        )
        if "custom_fields_values" in item
        else lead.custom_fields_values
    )
    if errors:
        return None

    def commit() -> int:
        before = changes.snapshot(lead)
        now = caller.emulator.clock.now_int()
        closing = status_id in (WON_STATUS_ID, LOST_STATUS_ID)
        if closing and lead.status_id != status_id:
            lead.closed_at = now
        elif not closing:
            lead.closed_at = None
        member = state.membership(responsible, caller.account.id)
        lead.name, lead.price = name, price
        lead.pipeline_id, lead.status_id = pipeline_id, status_id
        lead.responsible_user_id = responsible
        lead.group_id = member.group_id if member else lead.group_id
        lead.loss_reason_id = loss_reason_id if status_id == LOST_STATUS_ID else None
        lead.custom_fields_values = fields or None
        lead.updated_by, lead.updated_at = caller.user.id, now
        changes.lead_updated(caller, before, lead)
        return now

    return PlannedEdit(lead.id, f"/api/v4/leads/{lead.id}", commit)


def edit_leads(caller: Caller, body: object, path_id: int | None = None) -> Response:
    """Apply a lead `PATCH` body (the API and the act-as control)."""
    return edit_batch(
        caller,
        body,
        "/api/v4/leads",
        "leads",
        lambda item, errors: _plan_lead_edit(caller, item, errors),
        path_id=path_id,
    )


@authenticated
async def update_leads(request: Request, caller: Caller) -> Response:
    body = await read_body(request, "leads")
    return body if isinstance(body, Response) else edit_leads(caller, body)


@authenticated
async def update_lead(request: Request, caller: Caller) -> Response:
    body = await read_body(request, "leads")
    if isinstance(body, Response):
        return body
    return edit_leads(caller, body, request.path_params["lead_id"])


@authenticated
async def list_pipelines(request: Request, caller: Caller) -> Response:
    pipelines = caller.emulator.state.account_pipelines(caller.account.id)
    return hal(
        {
            "_total_items": len(pipelines),
            "_links": caller.link("/api/v4/leads/pipelines"),
            "_embedded": {"pipelines": [pipeline_json(caller, p) for p in pipelines]},
        }
    )


def _path_pipeline(caller: Caller, request: Request) -> Pipeline | None:
    """The pipeline named in the path, if it belongs to the caller's account."""
    pipeline_id = to_int(request.path_params["pipeline_id"])
    pipeline = caller.emulator.state.pipelines.get(pipeline_id) if pipeline_id else None
    return pipeline if pipeline is not None and pipeline.account_id == caller.account.id else None


@authenticated
async def get_pipeline(request: Request, caller: Caller) -> Response:
    pipeline = _path_pipeline(caller, request)
    if pipeline is None:
        return no_content()
    return hal(pipeline_json(caller, pipeline))


@authenticated
async def list_statuses(request: Request, caller: Caller) -> Response:
    pipeline = _path_pipeline(caller, request)
    if pipeline is None:
        return no_content()
    return hal(
        {
            "_total_items": len(pipeline.statuses),
            "_links": caller.link(f"/api/v4/leads/pipelines/{pipeline.id}/statuses"),
            "_embedded": {
                "statuses": [status_json(caller, pipeline, s) for s in pipeline.statuses]
            },
        }
    )
