"""The broker's working day against the emulator: lead edits, notes, tasks; amoCRM's rights
decide, retries with the same Idempotency-Key never write twice, caches follow the writes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from backend_support import Backend, amo_user
from foryou.integrations.amocrm.errors import AmoForbidden

from scripts.harness_constants import API


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def own_lead(amo: Any, amo_user_id: int) -> dict[str, Any]:
    leads = amo.all_leads({"filter[responsible_user_id]": amo_user_id, "with": "contacts"})
    return next(lead for lead in leads if lead["status_id"] not in (142, 143))


async def test_lead_edit_moves_stage_and_answers_the_fresh_detail(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("broker")
    me = amo_user(emu, "broker")
    lead = own_lead(amo_direct("admin"), me["id"])
    # Read first, so a stale copy would show if the write did not retire it.
    before = await backend.client.get(f"{API}/crm/leads/{lead['id']}", headers=headers)
    assert before.status_code == 200
    pipelines = (await backend.client.get(f"{API}/crm/pipelines", headers=headers)).json()
    pipeline = next(p for p in pipelines["data"]["items"] if p["id"] == lead["pipeline_id"])
    target = next(
        s for s in pipeline["stages"] if s["type"] == "open" and s["id"] != lead["status_id"]
    )
    if target["sort"] == 10:  # the first stage is the unsorted one
        target = next(s for s in pipeline["stages"] if s["type"] == "open" and s["sort"] > 10)

    response = await backend.client.patch(
        f"{API}/crm/leads/{lead['id']}",
        headers=headers,
        json={"statusId": target["id"], "price": 4242, "name": "Edited by the broker"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["stageId"], data["price"], data["name"]) == (
        target["id"],
        4242,
        "Edited by the broker",
    )
    upstream = amo_direct("admin").get(f"/api/v4/leads/{lead['id']}")
    assert upstream is not None
    assert (upstream["status_id"], upstream["pipeline_id"], upstream["price"]) == (
        target["id"],
        lead["pipeline_id"],
        4242,
    )
    listed = await backend.client.get(f"{API}/crm/leads", headers=headers, params={"limit": 50})
    assert any(
        item["id"] == lead["id"] and item["price"] == 4242
        for item in listed.json()["data"]["items"]
    )

    won = await backend.client.patch(
        f"{API}/crm/leads/{lead['id']}",
        headers=headers,
        json={"statusId": 142, "pipelineId": lead["pipeline_id"]},
    )
    assert won.status_code == 200, won.text
    assert won.json()["data"]["stageId"] == 142


async def test_lead_edit_refusals(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("broker")
    me = amo_user(emu, "broker")
    admin = amo_direct("admin")
    lead = own_lead(admin, me["id"])
    pipelines = (await backend.client.get(f"{API}/crm/pipelines", headers=headers)).json()
    pipeline = next(p for p in pipelines["data"]["items"] if p["id"] == lead["pipeline_id"])
    unsorted = min(pipeline["stages"], key=lambda s: s["sort"])
    other = next(p for p in pipelines["data"]["items"] if p["id"] != lead["pipeline_id"])
    foreign_stage = next(s for s in other["stages"] if s["type"] == "open")

    for body in ({"statusId": unsorted["id"]}, {"statusId": foreign_stage["id"]}):
        refused = await backend.client.patch(
            f"{API}/crm/leads/{lead['id']}", headers=headers, json=body
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "stage_not_allowed"
    empty = await backend.client.patch(f"{API}/crm/leads/{lead['id']}", headers=headers, json={})
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "validation_error"

    someone_else = amo_user(emu, "broker", 1)
    foreign = own_lead(admin, someone_else["id"])
    hidden = await backend.client.patch(
        f"{API}/crm/leads/{foreign['id']}", headers=headers, json={"price": 1}
    )
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "lead_not_found"
    assert admin.get(f"/api/v4/leads/{foreign['id']}")["price"] == foreign["price"]  # type: ignore[index]


@pytest.mark.parametrize("refusal", ["400", "403"])
async def test_amocrm_rights_refusal_is_forbidden(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any, refusal: str
) -> None:
    """amoCRM refuses a write beyond the user's rights with 403, or 400 and legacy code 244."""
    emu.control.settings(rights_refusal=refusal)
    headers = await connected("broker")
    me = amo_user(emu, "broker")
    foreign = own_lead(amo_direct("admin"), amo_user(emu, "broker", 1)["id"])
    user_id = uuid.UUID(
        (await backend.client.get(f"{API}/auth/me", headers=headers)).json()["data"]["id"]
    )
    crm = backend.services.crm
    with pytest.raises(AmoForbidden):
        await crm.gateway.as_broker(
            user_id,
            lambda token: crm.gateway.patch(token, f"/api/v4/leads/{foreign['id']}", {"price": 1}),
        )
    assert me["id"] != foreign["responsible_user_id"]


async def test_notes_are_idempotent_and_show_on_the_timeline(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("broker")
    lead = own_lead(amo_direct("admin"), amo_user(emu, "broker")["id"])
    headers_with_key = {**headers, **key()}
    first = await backend.client.post(
        f"{API}/crm/leads/{lead['id']}/notes", headers=headers_with_key, json={"text": "Called"}
    )
    assert first.status_code == 201, first.text
    assert first.headers["Idempotency-Replayed"] == "false"
    note = first.json()["data"]
    assert note["text"] == "Called"
    assert note["createdBy"]["id"] == amo_user(emu, "broker")["id"]
    again = await backend.client.post(
        f"{API}/crm/leads/{lead['id']}/notes", headers=headers_with_key, json={"text": "Called"}
    )
    assert again.status_code == 201
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json()["data"] == note
    reused = await backend.client.post(
        f"{API}/crm/leads/{lead['id']}/notes", headers=headers_with_key, json={"text": "Other"}
    )
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    notes = amo_direct("admin").get(f"/api/v4/leads/{lead['id']}/notes")
    assert [n["params"]["text"] for n in notes["_embedded"]["notes"]].count("Called") == 1  # type: ignore[index]

    detail = await backend.client.get(f"{API}/crm/leads/{lead['id']}", headers=headers)
    assert f"note:{note['id']}" in [entry["id"] for entry in detail.json()["data"]["timeline"]]

    missing_key = await backend.client.post(
        f"{API}/crm/leads/{lead['id']}/notes", headers=headers, json={"text": "x"}
    )
    assert missing_key.status_code == 422


async def test_note_after_a_lost_answer_is_not_sent_twice(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = {**await connected("broker"), **key()}
    lead = own_lead(amo_direct("admin"), amo_user(emu, "broker")["id"])
    path = f"/api/v4/leads/{lead['id']}/notes"
    emu.control.fault(path, method="POST", drop=True, after_processing=True, count=1)
    lost = await backend.client.post(
        f"{API}/crm/leads/{lead['id']}/notes", headers=headers, json={"text": "Lost answer"}
    )
    assert lost.status_code in (503, 504), lost.text
    assert int(lost.headers["Retry-After"]) >= 30
    backend.clock.advance(31)
    retried = await backend.client.post(
        f"{API}/crm/leads/{lead['id']}/notes", headers=headers, json={"text": "Lost answer"}
    )
    assert retried.status_code == 201, retried.text
    notes = amo_direct("admin").get(path)["_embedded"]["notes"]  # type: ignore[index]
    assert [n["params"]["text"] for n in notes].count("Lost answer") == 1
    assert retried.json()["data"]["id"] in [n["id"] for n in notes]


async def test_task_board_create_and_complete(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("broker")
    me = amo_user(emu, "broker")
    lead = own_lead(amo_direct("admin"), me["id"])
    board = await backend.client.get(f"{API}/crm/tasks", headers=headers)
    assert board.status_code == 200, board.text
    before = board.json()["data"]
    etag = board.headers["ETag"]
    assert (
        await backend.client.get(f"{API}/crm/tasks", headers={**headers, "If-None-Match": etag})
    ).status_code == 304

    due = backend.clock.now().timestamp() + 3 * 86400
    due_iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(due))
    task_headers = {**headers, **key(), "Accept-Language": "en-GB,en;q=0.8"}
    created = await backend.client.post(
        f"{API}/crm/tasks",
        headers=task_headers,
        json={"leadId": lead["id"], "type": "call", "dueAt": due_iso},
    )
    assert created.status_code == 201, created.text
    task = created.json()["data"]
    assert task["text"] == "Call the client"
    assert (task["type"], task["typeId"], task["isCompleted"]) == ("call", 1, False)
    assert task["lead"] == {"id": lead["id"], "name": lead["name"]}
    assert task["contact"] is not None
    assert task["contact"]["phone"]
    replay = await backend.client.post(
        f"{API}/crm/tasks",
        headers=task_headers,
        json={"leadId": lead["id"], "type": "call", "dueAt": due_iso},
    )
    assert replay.headers["Idempotency-Replayed"] == "true"
    assert replay.json()["data"] == task
    upstream = amo_direct("admin").get(
        "/api/v4/tasks", {"filter[entity_type]": "leads", "filter[entity_id]": lead["id"]}
    )
    assert [t["text"] for t in upstream["_embedded"]["tasks"]].count("Call the client") == 1  # type: ignore[index]

    after = (await backend.client.get(f"{API}/crm/tasks", headers=headers)).json()["data"]
    assert task["id"] in [t["id"] for t in after["upcoming"]]
    assert after["counts"]["upcoming"] == before["counts"]["upcoming"] + 1
    everything = after["overdue"] + after["today"] + after["upcoming"]
    assert all(not t["isCompleted"] for t in everything)

    done = await backend.client.post(
        f"{API}/crm/tasks/{task['id']}/complete", headers=headers, json={"result": "Agreed"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["data"]["isCompleted"] is True
    patches = len(emu.control.requests(method="PATCH", path=f"/api/v4/tasks/{task['id']}"))
    again = await backend.client.post(
        f"{API}/crm/tasks/{task['id']}/complete", headers=headers, json={"result": "Agreed"}
    )
    assert again.status_code == 200
    assert len(emu.control.requests(method="PATCH", path=f"/api/v4/tasks/{task['id']}")) == patches
    final = (await backend.client.get(f"{API}/crm/tasks", headers=headers)).json()["data"]
    assert task["id"] not in [t["id"] for t in final["upcoming"]]


async def test_tasks_of_other_brokers_stay_hidden(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("broker")
    other = amo_user(emu, "broker", 1)
    foreign_lead = own_lead(amo_direct("admin"), other["id"])
    answer = emu.control.act_as(other["id"]).add_task(
        "Theirs", int(time.time()) + 3600, lead_id=foreign_lead["id"]
    )
    assert answer.status == 200, answer.body
    foreign_task = answer.body["_embedded"]["tasks"][0]["id"]
    board = (await backend.client.get(f"{API}/crm/tasks", headers=headers)).json()["data"]
    ids = [t["id"] for group in ("overdue", "today", "upcoming") for t in board[group]]
    assert foreign_task not in ids
    completing = await backend.client.post(
        f"{API}/crm/tasks/{foreign_task}/complete", headers=headers, json={"result": "x"}
    )
    assert completing.status_code == 404
    assert completing.json()["error"]["code"] == "task_not_found"
    creating = await backend.client.post(
        f"{API}/crm/tasks",
        headers={**headers, **key()},
        json={"leadId": foreign_lead["id"], "type": "meeting", "dueAt": "2030-01-01T10:00:00Z"},
    )
    assert creating.status_code == 404
    assert creating.json()["error"]["code"] == "lead_not_found"
