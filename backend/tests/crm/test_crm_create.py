"""New leads: what lands in amoCRM, the Idempotency-Key under retries and concurrent
duplicates, and a create that fails part-way (reported precisely, resumed without duplicates)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from backend_support import Backend, amo_user

from scripts.harness_constants import API

WRITES = ("/api/v4/contacts", "/api/v4/leads", "/api/v4/leads/notes", "/api/v4/tasks")


async def main_pipeline(backend: Backend, headers: dict[str, str]) -> tuple[int, int]:
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    pipeline = next(p for p in response.json()["data"]["items"] if p["isMain"])
    stage = next(s for s in pipeline["stages"] if s["type"] == "open")
    return pipeline["id"], stage["id"]


def new_lead(pipeline_id: int, stage_id: int, **fields: Any) -> dict[str, Any]:
    body = {
        "pipelineId": pipeline_id,
        "stageId": stage_id,
        "name": "Іван Петренко",
        "phone": "+38 (050) 123-45-67",
        "email": "Ivan.Petrenko@Example.COM",
        "price": 125000,
        "comment": "Шукає 2-кімнатну квартиру на Подолі",
    }
    body.update(fields)
    return body


async def submit(
    backend: Backend, headers: dict[str, str], body: dict[str, Any], key: str | None
) -> Any:
    extra = {"Idempotency-Key": key} if key else {}
    return await backend.client.post(f"{API}/crm/leads", headers={**headers, **extra}, json=body)


def writes(api_log: Any) -> dict[str, int]:
    counts = dict.fromkeys(WRITES, 0)
    for row in api_log(method="POST"):
        if row["path"] in counts and row["status"] == 200:
            counts[row["path"]] += 1
    return counts


async def test_a_new_lead_lands_in_amocrm_and_in_the_list(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    me = amo_user(emu, "broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    before = await backend.client.get(f"{API}/crm/leads", headers=headers)
    assert before.status_code == 200

    started = int(time.time())
    response = await submit(
        backend, headers, new_lead(pipeline_id, stage_id), key=str(uuid.uuid4())
    )
    assert response.status_code == 201, response.text
    assert response.headers["idempotency-replayed"] == "false"
    data = response.json()["data"]
    assert data["lead"]["contactPhone"] == "+380501234567"
    assert data["lead"]["stageId"] == stage_id
    assert data["lead"]["responsibleUserId"] == me["id"]
    assert data["lead"]["stageName"]

    amo = amo_direct("admin")
    lead = amo.get(f"/api/v4/leads/{data['id']}", {"with": "contacts"})
    assert lead is not None
    assert lead["name"] == "Іван Петренко"
    assert lead["price"] == 125000
    assert (lead["pipeline_id"], lead["status_id"]) == (pipeline_id, stage_id)
    assert lead["responsible_user_id"] == me["id"]
    assert [c["id"] for c in lead["_embedded"]["contacts"]] == [data["contactId"]]
    contact = amo.get(f"/api/v4/contacts/{data['contactId']}")
    assert contact is not None
    values = {f["field_code"]: f["values"][0]["value"] for f in contact["custom_fields_values"]}
    assert values == {"PHONE": "+380501234567", "EMAIL": "Ivan.Petrenko@example.com"}
    notes = amo.get(f"/api/v4/leads/{data['id']}/notes")
    assert notes is not None
    assert [n["params"]["text"] for n in notes["_embedded"]["notes"]] == [
        "Шукає 2-кімнатну квартиру на Подолі"
    ]
    tasks = amo.get(
        "/api/v4/tasks", {"filter[entity_type]": "leads", "filter[entity_id]": data["id"]}
    )
    assert tasks is not None
    (task,) = tasks["_embedded"]["tasks"]
    assert task["id"] == data["taskId"]
    assert task["task_type_id"] == 1
    assert task["responsible_user_id"] == me["id"]
    # Due in one hour (the emulator's clock is real time here).
    assert started + 3600 - 5 <= task["complete_till"] <= int(time.time()) + 3600 + 5
    assert writes(api_log) == dict.fromkeys(WRITES, 1)

    # The broker's cached list is retired: the new lead is there without a manual refresh.
    after = await backend.client.get(f"{API}/crm/leads", headers=headers)
    assert after.json()["data"]["items"][0]["id"] == data["id"]
    detail = await backend.client.get(f"{API}/crm/leads/{data['id']}", headers=headers)
    assert detail.status_code == 200
    assert detail.json()["data"]["contacts"][0]["phones"][0]["value"] == "+380501234567"


async def test_a_retried_submit_returns_the_first_result(
    backend: Backend, connected: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    key = str(uuid.uuid4())
    body = new_lead(pipeline_id, stage_id)
    first = await submit(backend, headers, body, key)
    assert first.status_code == 201, first.text
    calls = len(api_log())
    # The same lead typed the same way, just formatted differently, is the same request.
    again = await submit(backend, headers, {**body, "phone": "+380501234567"}, key)
    assert len(api_log()) == calls, "a replay is answered without calling amoCRM"
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert writes(api_log) == dict.fromkeys(WRITES, 1)

    other = await submit(backend, headers, {**body, "price": 1}, key)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"

    # Keys belong to one user: another broker's identical key is their own new lead.
    stranger = await connected("broker", 1)
    theirs = await submit(backend, stranger, body, key)
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["data"]["id"] != first.json()["data"]["id"]


async def test_concurrent_duplicates_create_one_lead(
    backend: Backend, emu: Any, connected: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    body = new_lead(pipeline_id, stage_id)
    key = str(uuid.uuid4())
    # The first contact write takes a while, so the duplicates arrive while it is in flight.
    emu.control.fault("/api/v4/contacts", method="POST", delay=1.0, count=1)
    results = await asyncio.gather(*(submit(backend, headers, body, key) for _ in range(4)))
    statuses = sorted(response.status_code for response in results)
    assert statuses == [201, 409, 409, 409], [r.text for r in results]
    for response in results:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "idempotency_in_progress"
            assert int(response.headers["retry-after"]) >= 1
    created = next(r for r in results if r.status_code == 201).json()["data"]
    retry = await submit(backend, headers, body, key)
    assert retry.status_code == 201
    assert retry.json()["data"] == created
    assert writes(api_log) == dict.fromkeys(WRITES, 1)


async def test_a_failed_note_is_reported_and_resumed_without_duplicates(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    body = new_lead(pipeline_id, stage_id)
    key = str(uuid.uuid4())
    emu.control.fault("/api/v4/leads/notes", method="POST", status=500, count=1)

    failed = await submit(backend, headers, body, key)
    assert failed.status_code == 502, failed.text
    error = failed.json()["error"]
    assert error["code"] == "amo_partial_failure"
    steps = {step["step"]: step for step in error["details"]}
    assert steps["contact"]["status"] == steps["lead"]["status"] == "created"
    assert steps["note"] == {"step": "note", "status": "failed", "error": "amo_upstream_error"}
    assert steps["task"]["status"] == "pending"
    contact_id, lead_id = steps["contact"]["id"], steps["lead"]["id"]

    resumed = await submit(backend, headers, body, key)
    assert resumed.status_code == 201, resumed.text
    data = resumed.json()["data"]
    assert (data["id"], data["contactId"]) == (lead_id, contact_id)
    assert writes(api_log) == dict.fromkeys(WRITES, 1)
    notes = amo_direct("admin").get(f"/api/v4/leads/{lead_id}/notes")
    assert notes is not None
    assert len(notes["_embedded"]["notes"]) == 1


async def test_a_lost_answer_is_found_again_not_sent_twice(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    body = new_lead(pipeline_id, stage_id, comment=None)
    key = str(uuid.uuid4())
    # amoCRM creates the lead, then the connection drops before its answer arrives.
    emu.control.fault("/api/v4/leads", method="POST", drop=True, after_processing=True, count=1)
    failed = await submit(backend, headers, body, key)
    assert failed.status_code == 502, failed.text
    error = failed.json()["error"]
    assert error["code"] == "amo_partial_failure"
    steps = {step["step"]: step for step in error["details"]}
    assert steps["contact"]["status"] == "created"
    assert steps["lead"]["status"] == "failed"
    assert steps["note"]["status"] == "skipped"
    assert int(failed.headers["retry-after"]) >= 30

    # The lost request might still be in flight: a retry right away is asked to wait.
    early = await submit(backend, headers, body, key)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "idempotency_in_progress"
    assert int(early.headers["retry-after"]) >= 29
    backend.clock.advance(31)
    resumed = await submit(backend, headers, body, key)
    assert resumed.status_code == 201, resumed.text
    data = resumed.json()["data"]
    assert data["noteId"] is None
    linked = amo_direct("admin").all_leads({"filter[name]": body["name"], "with": "contacts"})
    assert [lead["id"] for lead in linked] == [data["id"]]
    posted = [row for row in api_log(method="POST") if row["path"] == "/api/v4/leads"]
    assert len(posted) == 1, "the lead was found in amoCRM instead of being sent again"
    assert len([r for r in api_log(method="POST") if r["path"] == "/api/v4/contacts"]) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"phone": "call me"}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"name": None, "phone": None, "email": " "}, "body"),
        ({"price": -1}, "price"),
        ({"pipelineId": "main"}, "pipelineId"),
        ({"responsibleUserId": 1}, "responsibleUserId"),
        ({"stageId": 1}, "stageId"),
    ],
)
async def test_bad_new_lead_input(
    backend: Backend, connected: Any, api_log: Any, change: dict[str, Any], field: str
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    body = {**new_lead(pipeline_id, stage_id), **change}
    response = await submit(backend, headers, body, key=str(uuid.uuid4()))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in {detail["field"] for detail in error["details"]}
    assert writes(api_log) == dict.fromkeys(WRITES, 0)


async def test_idempotency_key_is_required(backend: Backend, connected: Any) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    for key in (None, "short", "x" * 101, "has space in it"):
        response = await submit(backend, headers, new_lead(pipeline_id, stage_id), key)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


async def test_a_timed_out_write_is_never_sent_again_automatically(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    body = new_lead(pipeline_id, stage_id)
    key = str(uuid.uuid4())
    # amoCRM writes the note, then answers later than our 2-second timeout.
    emu.control.fault(
        "/api/v4/leads/notes", method="POST", delay=3.0, after_processing=True, count=1
    )
    failed = await submit(backend, headers, body, key)
    assert failed.status_code == 502, failed.text
    steps = {step["step"]: step for step in failed.json()["error"]["details"]}
    assert steps["note"] == {"step": "note", "status": "failed", "error": "amo_upstream_timeout"}
    await asyncio.sleep(1.2)  # the late answer finishes (the log records finished requests)
    assert len(api_log(method="POST", path="/api/v4/leads/notes")) == 1, "no automatic resend"
    early = await submit(backend, headers, body, key)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "idempotency_in_progress"
    backend.clock.advance(31)
    resumed = await submit(backend, headers, body, key)
    assert resumed.status_code == 201, resumed.text
    lead_id = resumed.json()["data"]["id"]
    notes = amo_direct("admin").get(f"/api/v4/leads/{lead_id}/notes")
    assert notes is not None
    assert len(notes["_embedded"]["notes"]) == 1
    assert resumed.json()["data"]["noteId"] == notes["_embedded"]["notes"][0]["id"]
    assert len(api_log(method="POST", path="/api/v4/leads/notes")) == 1
    assert writes(api_log)["/api/v4/leads"] == 1


async def test_a_write_lost_before_amocrm_saw_it_is_sent_once_more(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    body = new_lead(pipeline_id, stage_id, name="Марія Шевченко", phone="+380671112233")
    key = str(uuid.uuid4())
    emu.control.fault("/api/v4/contacts", method="POST", drop=True, count=1)
    failed = await submit(backend, headers, body, key)
    assert failed.status_code == 503, failed.text
    error = failed.json()["error"]
    assert error["code"] == "amo_upstream_unavailable"
    assert error["details"][0] == {
        "step": "contact",
        "status": "failed",
        "error": "amo_upstream_unavailable",
    }
    assert int(failed.headers["retry-after"]) >= 30

    backend.clock.advance(31)
    resumed = await submit(backend, headers, body, key)
    assert resumed.status_code == 201, resumed.text
    # Looked up first (nothing there), then sent: one contact, one lead.
    assert writes(api_log) == dict.fromkeys(WRITES, 1)
    found = amo_direct("admin").get("/api/v4/contacts", {"query": "+380671112233"})
    assert found is not None
    assert [c["id"] for c in found["_embedded"]["contacts"]] == [
        resumed.json()["data"]["contactId"]
    ]


async def test_the_unsorted_stage_is_told_apart_and_refused_for_new_leads(
    backend: Backend, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    raw = amo_direct("broker", 0).get("/api/v4/leads/pipelines")
    assert raw is not None
    unsorted_in_amocrm = {
        status["id"]
        for pipeline in raw["_embedded"]["pipelines"]
        for status in pipeline["_embedded"]["statuses"]
        if status["type"] == 1
    }
    assert unsorted_in_amocrm
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    items = response.json()["data"]["items"]
    unsorted = {
        (pipeline["id"], stage["id"])
        for pipeline in items
        for stage in pipeline["stages"]
        if stage["type"] == "unsorted"
    }
    assert {stage for _, stage in unsorted} == unsorted_in_amocrm

    pipeline_id, stage_id = next(iter(sorted(unsorted)))
    refused = await submit(backend, headers, new_lead(pipeline_id, stage_id), key=str(uuid.uuid4()))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "stage_not_allowed"
    assert error["details"][0]["field"] == "stageId"
    assert writes(api_log) == dict.fromkeys(WRITES, 0)


async def call_task_text(amo_direct: Any, lead_id: int) -> str:
    tasks = amo_direct("admin").get(
        "/api/v4/tasks", {"filter[entity_type]": "leads", "filter[entity_id]": lead_id}
    )
    (task,) = tasks["_embedded"]["tasks"]
    text: str = task["text"]
    return text


async def test_the_call_task_speaks_the_brokers_language(
    backend: Backend, connected: Any, amo_direct: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)
    pipeline_id, stage_id = await main_pipeline(backend, headers)
    expected = {
        None: "Зателефонувати клієнту",
        "en-GB,en;q=0.9": "Call the client",
        "de-DE,ru;q=0.8,en;q=0.5": "Позвонить клиенту",
        "uk-UA": "Зателефонувати клієнту",
        "fr, de;q=0.5": "Зателефонувати клієнту",
    }
    for language, text in expected.items():
        extra = {"Accept-Language": language} if language else {}
        response = await submit(
            backend, {**headers, **extra}, new_lead(pipeline_id, stage_id), key=str(uuid.uuid4())
        )
        assert response.status_code == 201, response.text
        assert await call_task_text(amo_direct, response.json()["data"]["id"]) == text, language

    # A retry from a phone switched to another language replays; nothing is sent again.
    key = str(uuid.uuid4())
    first = await submit(
        backend, {**headers, "Accept-Language": "en"}, new_lead(pipeline_id, stage_id), key
    )
    before = writes(api_log)
    replay = await submit(
        backend, {**headers, "Accept-Language": "ru"}, new_lead(pipeline_id, stage_id), key
    )
    assert replay.status_code == 201, replay.text
    assert replay.headers["idempotency-replayed"] == "true"
    assert replay.json() == first.json()
    assert writes(api_log) == before
    assert await call_task_text(amo_direct, first.json()["data"]["id"]) == "Call the client"
