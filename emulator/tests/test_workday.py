"""A broker's working day through API v4: lead edits with rights, notes, tasks, events, act-as."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from amocrm_emulator.testing import RunningEmulator
from emu_support import bearer

from scripts.harness_constants import ADMIN_ID, AMO_API, BROKER1_ID, GROUP_LEAD_ID

BROKER2_ID = BROKER1_ID + 1
REAL_ESTATE = 7_310_101
PARTNERS = 7_310_102
WON, LOST = 142, 143
PROBLEM = "application/problem+json"


@pytest.fixture
def broker(emu: RunningEmulator) -> dict[str, str]:
    return bearer(emu.token_for("broker1@reforyou.example"))


@pytest.fixture
def admin(emu: RunningEmulator) -> dict[str, str]:
    return bearer(emu.token_for("admin@reforyou.example"))


def own_lead(client: httpx.Client, headers: dict[str, str], **filters: Any) -> dict[str, Any]:
    params = {"limit": 1, **{f"filter[{k}]": v for k, v in filters.items()}}
    answer = client.get(f"{AMO_API}/leads", headers=headers, params=params)
    assert answer.status_code == 200, answer.text
    lead: dict[str, Any] = answer.json()["_embedded"]["leads"][0]
    return lead


def stages(client: httpx.Client, headers: dict[str, str], pipeline_id: int) -> list[dict[str, Any]]:
    answer = client.get(f"{AMO_API}/leads/pipelines/{pipeline_id}/statuses", headers=headers)
    result: list[dict[str, Any]] = answer.json()["_embedded"]["statuses"]
    return result


def events(client: httpx.Client, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get(f"{AMO_API}/events", headers=headers, params=params)
    if answer.status_code == 204:
        return []
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["_embedded"]["events"]
    return result


# ---- lead edits ----------------------------------------------------------------------------
def test_patch_lead_by_id_moves_prices_renames_and_records_events(
    client: httpx.Client, broker: dict[str, str]
) -> None:
    lead = own_lead(client, broker, pipeline_id=REAL_ESTATE)
    target = next(s for s in stages(client, broker, REAL_ESTATE) if s["type"] == 0)
    target_id = target["id"] if target["id"] != lead["status_id"] else target["id"] + 1
    answer = client.patch(
        f"{AMO_API}/leads/{lead['id']}",
        headers=broker,
        json={"status_id": target_id, "price": 1_234_000, "name": "Квартира у моря"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"id", "updated_at", "_links"}
    assert body["id"] == lead["id"]
    assert body["_links"]["self"]["href"] == f"{AMO_API}/leads/{lead['id']}"

    stored = client.get(f"{AMO_API}/leads/{lead['id']}", headers=broker).json()
    assert (stored["status_id"], stored["price"], stored["name"]) == (
        target_id,
        1_234_000,
        "Квартира у моря",
    )
    assert stored["updated_by"] == BROKER1_ID
    assert stored["updated_at"] == body["updated_at"]

    history = events(client, broker, **{"filter[entity]": "lead", "filter[entity_id]": lead["id"]})
    by_type = {e["type"]: e for e in history}
    moved = by_type["lead_status_changed"]
    assert moved["value_before"] == [
        {"lead_status": {"id": lead["status_id"], "pipeline_id": REAL_ESTATE}}
    ]
    assert moved["value_after"] == [{"lead_status": {"id": target_id, "pipeline_id": REAL_ESTATE}}]
    assert moved["created_by"] == BROKER1_ID
    assert isinstance(moved["id"], str)
    assert moved["entity_type"] == "lead"
    assert by_type["sale_field_changed"]["value_after"] == [
        {"sale_field_value": {"sale": 1_234_000}}
    ]
    assert by_type["name_field_changed"]["value_after"] == [
        {"name_field_value": {"name": "Квартира у моря"}}
    ]


def test_batch_patch_wins_loses_and_changes_pipeline(
    client: httpx.Client, broker: dict[str, str]
) -> None:
    answer = client.get(
        f"{AMO_API}/leads", headers=broker, params={"limit": 3, "filter[pipeline_id]": REAL_ESTATE}
    )
    first, second, third = answer.json()["_embedded"]["leads"]
    partner_stage = next(s for s in stages(client, broker, PARTNERS) if s["type"] == 0)
    answer = client.patch(
        f"{AMO_API}/leads",
        headers=broker,
        json=[
            {"id": first["id"], "status_id": WON, "pipeline_id": REAL_ESTATE},
            {"id": second["id"], "status_id": LOST, "pipeline_id": REAL_ESTATE},
            {"id": third["id"], "status_id": partner_stage["id"], "pipeline_id": PARTNERS},
        ],
    )
    assert answer.status_code == 200, answer.text
    rows = answer.json()["_embedded"]["leads"]
    assert [r["id"] for r in rows] == [first["id"], second["id"], third["id"]]
    assert set(rows[0]) == {"id", "updated_at", "_links"}
    won = client.get(f"{AMO_API}/leads/{first['id']}", headers=broker).json()
    assert won["status_id"] == WON
    assert won["closed_at"] is not None
    moved = client.get(f"{AMO_API}/leads/{third['id']}", headers=broker).json()
    assert (moved["pipeline_id"], moved["status_id"]) == (PARTNERS, partner_stage["id"])


def test_moving_into_the_unsorted_stage_is_refused(
    client: httpx.Client, broker: dict[str, str]
) -> None:
    lead = own_lead(client, broker, pipeline_id=REAL_ESTATE)
    unsorted = next(s for s in stages(client, broker, REAL_ESTATE) if s["type"] == 1)
    answer = client.patch(
        f"{AMO_API}/leads/{lead['id']}",
        headers=broker,
        json={"status_id": unsorted["id"], "pipeline_id": REAL_ESTATE},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["detail"] == "Request validation failed"
    (error,) = body["validation-errors"][0]["errors"]
    assert (error["code"], error["path"]) == ("NotSupportedChoice", "status_id")
    unchanged = client.get(f"{AMO_API}/leads/{lead['id']}", headers=broker).json()
    assert unchanged["status_id"] == lead["status_id"]


def test_validation_errors_name_each_rejected_item_and_nothing_changes(
    client: httpx.Client, broker: dict[str, str]
) -> None:
    lead = own_lead(client, broker)
    answer = client.patch(
        f"{AMO_API}/leads",
        headers=broker,
        json=[
            {"id": lead["id"], "price": 5},
            {"id": lead["id"], "price": -1, "responsible_user_id": 1},
            {"id": 1, "name": "x"},
        ],
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["title"] == "Bad Request"
    assert body["type"] == "https://httpstatus.es/400"
    items = {v["request_id"]: v["errors"] for v in body["validation-errors"]}
    assert set(items) == {"1", "2"}
    assert {e["path"] for e in items["1"]} == {"price", "responsible_user_id"}
    assert items["2"][0]["code"] == "NotFound"
    assert (
        client.get(f"{AMO_API}/leads/{lead['id']}", headers=broker).json()["price"]
        == (lead["price"])
    )


def test_loss_reason_outside_the_lost_stage_uses_amocrms_other_error_shape(
    client: httpx.Client, broker: dict[str, str]
) -> None:
    lead = own_lead(client, broker, pipeline_id=REAL_ESTATE)
    answer = client.patch(
        f"{AMO_API}/leads/{lead['id']}",
        headers=broker,
        json={"status_id": WON, "pipeline_id": REAL_ESTATE, "loss_reason_id": 7},
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["errors"] == {str(lead["id"]): "Loss reason can be specified only for lost lead"}
    assert body["detail"] == "Invalid request body"


def test_editing_a_lead_beyond_the_users_rights_is_refused(
    emu: RunningEmulator, client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    foreign = own_lead(client, admin, responsible_user_id=BROKER2_ID)
    answer = client.patch(f"{AMO_API}/leads/{foreign['id']}", headers=broker, json={"price": 1})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("Код ошибки 244")
    # A batch with one foreign lead is refused as a whole.
    mine = own_lead(client, broker)
    answer = client.patch(
        f"{AMO_API}/leads",
        headers=broker,
        json=[{"id": mine["id"], "price": 1}, {"id": foreign["id"], "price": 1}],
    )
    assert answer.status_code == 400
    assert (
        client.get(f"{AMO_API}/leads/{mine['id']}", headers=broker).json()["price"]
        == (mine["price"])
    )

    emu.control.settings(rights_refusal="403")
    answer = client.patch(f"{AMO_API}/leads/{foreign['id']}", headers=broker, json={"price": 1})
    assert answer.status_code == 403
    assert answer.json()["detail"] == "Не хватает прав"

    # Group rights reach the group's leads; the admin reaches everything.
    group_lead = own_lead(client, admin, responsible_user_id=GROUP_LEAD_ID + 1)
    group_lead_head = bearer(emu.token_for("broker6@reforyou.example"))
    answer = client.patch(
        f"{AMO_API}/leads/{group_lead['id']}", headers=group_lead_head, json={"price": 2}
    )
    assert answer.status_code == 200
    answer = client.patch(f"{AMO_API}/leads/{foreign['id']}", headers=admin, json={"price": 3})
    assert answer.status_code == 200


def test_handing_a_lead_over_records_the_responsible_change(
    client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    lead = own_lead(client, broker)
    answer = client.patch(
        f"{AMO_API}/leads/{lead['id']}", headers=broker, json={"responsible_user_id": BROKER2_ID}
    )
    assert answer.status_code == 200
    # Now it is the other broker's: this broker no longer sees it.
    assert client.get(f"{AMO_API}/leads/{lead['id']}", headers=broker).status_code == 204
    changed = events(
        client,
        admin,
        **{
            "filter[type]": "entity_responsible_changed",
            "filter[value_after][responsible_user_id]": str(BROKER2_ID),
        },
    )
    assert [e["entity_id"] for e in changed] == [lead["id"]]
    assert changed[0]["value_before"] == [{"responsible_user": {"id": BROKER1_ID}}]


# ---- notes ---------------------------------------------------------------------------------
def test_notes_list_across_leads_and_by_id(client: httpx.Client, broker: dict[str, str]) -> None:
    lead = own_lead(client, broker)
    answer = client.post(
        f"{AMO_API}/leads/{lead['id']}/notes",
        headers=broker,
        json=[{"note_type": "common", "params": {"text": "Перезвонить в 18:00"}}],
    )
    assert answer.status_code == 200, answer.text
    note_id = answer.json()["_embedded"]["notes"][0]["id"]
    one = client.get(f"{AMO_API}/leads/{lead['id']}/notes/{note_id}", headers=broker)
    assert one.status_code == 200
    assert one.json()["params"] == {"text": "Перезвонить в 18:00"}
    listed = client.get(
        f"{AMO_API}/leads/notes",
        headers=broker,
        params={"filter[entity_id][]": lead["id"], "order[id]": "desc", "limit": 1},
    )
    assert listed.status_code == 200
    assert listed.json()["_embedded"]["notes"][0]["id"] == note_id
    every = client.get(f"{AMO_API}/leads/notes", headers=broker, params={"limit": 250})
    assert {n["entity_id"] for n in every.json()["_embedded"]["notes"]} >= {lead["id"]}
    assert (
        client.delete(f"{AMO_API}/leads/{lead['id']}/notes/{note_id}", headers=broker).status_code
        == 405
    )
    added = events(
        client,
        broker,
        **{
            "filter[entity]": "lead",
            "filter[entity_id]": lead["id"],
            "filter[type]": "common_note_added",
        },
    )
    assert {"note": {"id": note_id}} in [v for e in added for v in e["value_after"]]


# ---- tasks ---------------------------------------------------------------------------------
def add_task(client: httpx.Client, headers: dict[str, str], lead_id: int, **fields: Any) -> int:
    body = {
        "text": "Позвонить клиенту",
        "complete_till": 1_800_000_000,
        "entity_type": "leads",
        "entity_id": lead_id,
        **fields,
    }
    answer = client.post(f"{AMO_API}/tasks", headers=headers, json=[body])
    assert answer.status_code == 200, answer.text
    task_id: int = answer.json()["_embedded"]["tasks"][0]["id"]
    return task_id


def test_tasks_complete_by_id_and_batch_edit(client: httpx.Client, broker: dict[str, str]) -> None:
    lead = own_lead(client, broker)
    task_id = add_task(client, broker, lead["id"])
    fresh = client.get(f"{AMO_API}/tasks/{task_id}", headers=broker).json()
    assert fresh["result"] == []
    assert fresh["is_completed"] is False

    answer = client.patch(
        f"{AMO_API}/tasks/{task_id}",
        headers=broker,
        json={"is_completed": True, "result": {"text": "Договорились о показе"}},
    )
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"id", "updated_at", "_links"}
    done = client.get(f"{AMO_API}/tasks/{task_id}", headers=broker).json()
    assert done["is_completed"] is True
    assert done["result"] == {"text": "Договорились о показе"}

    answer = client.patch(
        f"{AMO_API}/tasks",
        headers=broker,
        json=[{"id": task_id, "text": "Позвонить ещё раз", "request_id": "r1"}],
    )
    assert answer.status_code == 200
    (row,) = answer.json()["_embedded"]["tasks"]
    assert set(row) == {"id", "updated_at", "request_id", "_links"}
    assert row["request_id"] == "r1"

    history = events(client, broker, **{"filter[entity]": "task", "filter[entity_id]": task_id})
    assert {e["type"] for e in history} >= {
        "task_added",
        "task_completed",
        "task_result_added",
        "task_text_changed",
    }
    assert all(e["entity_type"] == "task" for e in history)

    invalid = client.patch(
        f"{AMO_API}/tasks/{task_id}", headers=broker, json={"complete_till": "soon", "text": ""}
    )
    assert invalid.status_code == 400
    paths = {e["path"] for e in invalid.json()["validation-errors"][0]["errors"]}
    assert paths == {"complete_till", "text"}
    assert client.delete(f"{AMO_API}/tasks/{task_id}", headers=broker).json()["detail"] == (
        "Invalid scope"
    )
    assert client.get(f"{AMO_API}/tasks/types", headers=broker).status_code == 404


def test_task_filters_order_and_paging(
    emu: RunningEmulator, client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    lead = own_lead(client, broker)
    ids = [
        add_task(
            client, broker, lead["id"], complete_till=1_800_000_000 + i, task_type_id=1 + i % 2
        )
        for i in range(5)
    ]
    client.patch(f"{AMO_API}/tasks/{ids[0]}", headers=broker, json={"is_completed": True})
    other = own_lead(client, admin, responsible_user_id=BROKER2_ID)
    foreign = add_task(client, admin, other["id"], responsible_user_id=BROKER2_ID)

    def listed(headers: dict[str, str], **params: Any) -> list[int]:
        answer = client.get(f"{AMO_API}/tasks", headers=headers, params=params)
        if answer.status_code == 204:
            return []
        assert answer.status_code == 200, answer.text
        return [t["id"] for t in answer.json()["_embedded"]["tasks"]]

    assert foreign not in listed(broker, limit=250)
    assert foreign in listed(admin, limit=250, **{"filter[responsible_user_id][]": BROKER2_ID})
    assert listed(broker, **{"filter[is_completed]": 1}) == [ids[0]]
    assert listed(broker, **{"filter[is_completed]": 0}) == ids[1:]
    assert listed(broker, **{"filter[task_type][]": 2}) == [ids[1], ids[3]]
    assert listed(broker, **{"filter[task_type_id]": 2}) == [ids[1], ids[3]]
    assert (
        listed(broker, **{"filter[entity_type]": "leads", "filter[entity_id][]": lead["id"]}) == ids
    )
    assert listed(broker, **{"order[complete_till]": "desc"}) == ids[::-1]
    page = client.get(f"{AMO_API}/tasks", headers=broker, params={"limit": 2, "page": 2})
    assert [t["id"] for t in page.json()["_embedded"]["tasks"]] == ids[2:4]
    assert "next" in page.json()["_links"]
    assert (
        client.get(f"{AMO_API}/tasks", headers=broker, params={"limit": 2, "page": 4}).status_code
        == 204
    )
    now = int(emu.control.clock()["now"])
    assert listed(broker, **{"filter[updated_at]": now + 3600}) == []
    assert listed(broker, **{"filter[updated_at][from]": now - 3600}) == ids
    # The undocumented complete_till filter has no effect unless switched on.
    window = {
        "filter[complete_till][from]": 1_800_000_001,
        "filter[complete_till][to]": 1_800_000_002,
    }
    assert listed(broker, **window) == ids
    emu.control.settings(task_complete_till_filter=True)
    assert listed(broker, **window) == ids[1:3]
    bad = client.get(f"{AMO_API}/tasks", headers=broker, params={"filter[entity_id]": lead["id"]})
    assert bad.status_code == 400
    # Another broker's task: not visible, and editing it is refused.
    assert client.get(f"{AMO_API}/tasks/{foreign}", headers=broker).status_code == 204
    refused = client.patch(f"{AMO_API}/tasks/{foreign}", headers=broker, json={"text": "x"})
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("Код ошибки 244")


def test_task_types_come_from_the_account(client: httpx.Client, broker: dict[str, str]) -> None:
    body = client.get(f"{AMO_API}/account", headers=broker, params={"with": "task_types"}).json()
    types = body["_embedded"]["task_types"]
    assert {t["id"] for t in types} == {1, 2}
    assert set(types[0]) == {"id", "name", "color", "icon_id", "code"}


# ---- events ----------------------------------------------------------------------------------
def test_event_filters_and_paging(
    emu: RunningEmulator, client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    lead = own_lead(client, broker, pipeline_id=REAL_ESTATE)
    start = int(emu.control.clock()["now"])
    client.patch(
        f"{AMO_API}/leads/{lead['id']}",
        headers=broker,
        json={"status_id": WON, "pipeline_id": REAL_ESTATE},
    )
    emu.control.act_as(ADMIN_ID).update_lead(lead["id"], price=99)
    recent = events(client, admin, **{"filter[created_at][from]": start})
    assert {(e["type"], e["created_by"]) for e in recent} == {
        ("lead_status_changed", BROKER1_ID),
        ("sale_field_changed", ADMIN_ID),
    }
    assert (
        events(client, admin, **{"filter[created_at]": start, "filter[created_by][]": ADMIN_ID})[0][
            "type"
        ]
        == "sale_field_changed"
    )
    assert events(client, admin, **{"filter[created_at]": f"{start},{start + 3600}"})
    won = events(
        client,
        admin,
        **{
            "filter[value_after][leads_statuses][0][pipeline_id]": REAL_ESTATE,
            "filter[value_after][leads_statuses][0][status_id]": WON,
            "filter[created_at]": start,
        },
    )
    assert [e["entity_id"] for e in won] == [lead["id"]]
    page = client.get(f"{AMO_API}/events", headers=admin, params={"limit": 100})
    assert len(page.json()["_embedded"]["events"]) == 100
    assert "next" in page.json()["_links"]
    assert client.get(f"{AMO_API}/events", headers=admin, params={"limit": 101}).status_code == 400
    one = recent[0]
    assert client.get(f"{AMO_API}/events/{one['id']}", headers=admin).json()["id"] == one["id"]


# ---- act-as --------------------------------------------------------------------------------
def test_act_as_changes_leads_as_another_user(
    emu: RunningEmulator, client: httpx.Client, broker: dict[str, str]
) -> None:
    other = emu.control.act_as(BROKER2_ID)
    created = other.create_lead(name="Дом в Подмосковье", price=5_000_000)
    assert created.status == 200
    lead_id = created.body["_embedded"]["leads"][0]["id"]
    assert client.get(f"{AMO_API}/leads/{lead_id}", headers=broker).status_code == 204
    # Handed to broker 1, who now sees it, authored by broker 2.
    assert other.set_responsible(lead_id, BROKER1_ID).status == 200
    lead = client.get(f"{AMO_API}/leads/{lead_id}", headers=broker).json()
    assert lead["updated_by"] == BROKER2_ID
    assert other.add_note(lead_id, "Клиент просит скидку").status == 400  # no longer theirs
    mine = emu.control.act_as(BROKER1_ID)
    assert mine.add_note(lead_id, "Клиент просит скидку").status == 200
    task = mine.add_task("Показ", 1_800_000_000, lead_id=lead_id)
    task_id = task.body["_embedded"]["tasks"][0]["id"]
    assert mine.complete_task(task_id, "Показ прошёл").status == 200
    unsorted = next(s for s in stages(client, broker, REAL_ESTATE) if s["type"] == 1)
    refused = mine.move_lead(lead_id, unsorted["id"], REAL_ESTATE)
    assert refused.status == 400
    assert refused.body["validation-errors"][0]["errors"][0]["path"] == "status_id"
    assert mine.delete_lead(lead_id).status == 204
    assert client.get(f"{AMO_API}/leads/{lead_id}", headers=broker).status_code == 204
    kinds = {
        (e["type"], e["created_by"])
        for e in events(
            client,
            bearer(emu.token_for("admin@reforyou.example")),
            **{"filter[entity]": "task", "filter[entity_id]": task_id},
        )
    }
    assert kinds >= {("task_added", BROKER1_ID), ("task_completed", BROKER1_ID)}


def test_act_as_rejects_unknown_actions_and_users(emu: RunningEmulator) -> None:
    assert emu.control.act_as(BROKER1_ID).do("dance").status == 400
    assert emu.control.act_as(1).do("create_lead").status == 404
