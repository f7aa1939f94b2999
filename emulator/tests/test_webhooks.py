"""Account webhooks: registration, amoCRM's body shapes, delivery, retries and disabling."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from aioamocrm._webhooks import parse_webhook
from amocrm_emulator.testing import RunningEmulator
from emu_support import bearer

from scripts.harness_constants import ACCOUNT_HOST, ACCOUNT_ID, ADMIN_ID, AMO_API, BROKER1_ID

BROKER2_ID = BROKER1_ID + 1
REAL_ESTATE = 7_310_101
WON = 142
LEAD_EVENTS = [
    "add_lead",
    "update_lead",
    "status_lead",
    "responsible_lead",
    "note_lead",
    "delete_lead",
]


# ---- a receiver on 127.0.0.1 ---------------------------------------------------------------
class Receiver:
    """An HTTP server that records every hook and answers with the statuses it is told."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode("ascii")
                time.sleep(receiver.delay)
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/amo/hook?token=s3cret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def admin(emu: RunningEmulator) -> dict[str, str]:
    return bearer(emu.token_for("admin@reforyou.example"))


def php_brackets(body: str) -> dict[str, Any]:
    """Parse a form body the way PHP fills `$_POST`: `a[b][0][c]=v` → nested dicts."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=True):
        name, _, rest = key.partition("[")
        parts = [name, *[p.rstrip("]") for p in rest.split("[")]] if rest else [name]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def subscribe(
    client: httpx.Client, admin: dict[str, str], destination: str, settings: list[str]
) -> dict[str, Any]:
    answer = client.post(
        f"{AMO_API}/webhooks",
        headers=admin,
        json={"destination": destination, "settings": settings},
    )
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def own_lead(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    """An open lead of the caller in Real Estate (not won or lost yet)."""
    answer = client.get(
        f"{AMO_API}/leads",
        headers=headers,
        params={"limit": 50, "filter[pipeline_id]": REAL_ESTATE},
    )
    return next(
        lead for lead in answer.json()["_embedded"]["leads"] if lead["status_id"] not in (142, 143)
    )


# ---- registration ---------------------------------------------------------------------------
def test_webhooks_are_admin_only_and_upserted_by_destination(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str]
) -> None:
    broker = bearer(emu.token_for("broker1@reforyou.example"))
    destination = "https://crm.example.com/amo/hook?token=s3cret"
    body = {"destination": destination, "settings": ["add_lead"]}
    assert client.post(f"{AMO_API}/webhooks", headers=broker, json=body).status_code == 403
    assert client.get(f"{AMO_API}/webhooks", headers=broker).status_code == 403
    assert client.get(f"{AMO_API}/webhooks", headers=admin).status_code == 204

    first = subscribe(client, admin, destination, ["add_lead"])
    assert set(first) == {
        "id",
        "destination",
        "created_at",
        "updated_at",
        "account_id",
        "created_by",
        "sort",
        "disabled",
        "settings",
    }
    assert (first["account_id"], first["created_by"], first["disabled"]) == (
        ACCOUNT_ID,
        ADMIN_ID,
        False,
    )
    again = subscribe(client, admin, destination, ["status_lead", "add_task"])
    assert again["id"] == first["id"]
    assert again["settings"] == ["status_lead", "add_task"]
    subscribe(client, admin, "https://other.example.com/hook", ["add_contact"])

    listed = client.get(
        f"{AMO_API}/webhooks", headers=admin, params={"filter[destination]": destination}
    ).json()
    assert listed["_total_items"] == 1
    assert listed["_embedded"]["webhooks"][0]["settings"] == ["status_lead", "add_task"]
    assert client.get(f"{AMO_API}/webhooks", headers=admin).json()["_total_items"] == 2

    bad = client.post(
        f"{AMO_API}/webhooks", headers=admin, json={"destination": "nope", "settings": ["x"]}
    )
    assert bad.status_code == 400
    assert {e["path"] for e in bad.json()["validation-errors"][0]["errors"]} == {
        "destination",
        "settings",
    }

    gone = client.request(
        "DELETE", f"{AMO_API}/webhooks", headers=admin, json={"destination": destination}
    )
    assert gone.status_code == 204
    assert gone.content == b""
    again_gone = client.request(
        "DELETE", f"{AMO_API}/webhooks", headers=admin, json={"destination": destination}
    )
    assert again_gone.status_code == 404
    # The destination's secret never reaches the request log.
    logged = emu.control.requests(path="/api/v4/webhooks", method="GET")
    assert all("s3cret" not in row["query"] for row in logged)


# ---- delivery and body shapes ---------------------------------------------------------------
def test_a_stage_change_by_another_user_is_delivered_in_amocrms_shape(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url, LEAD_EVENTS)
    broker2 = bearer(emu.token_for("broker2@reforyou.example"))
    lead = own_lead(client, broker2)
    emu.control.clear_deliveries()

    moved = emu.control.act_as(BROKER2_ID).move_lead(lead["id"], WON, REAL_ESTATE)
    assert moved.status == 200
    done = emu.control.wait_for_deliveries(2, destination=receiver.url)
    assert sorted(d["event"] for d in done) == ["status_lead", "update_lead"]
    assert all(d["status"] == 200 and d["attempt"] == 1 for d in done)

    status_hook = next(r for r in receiver.received if "leads%5Bstatus%5D" in r["body"])
    assert status_hook["path"] == "/amo/hook?token=s3cret"
    assert status_hook["headers"]["User-Agent"] == "amoCRM-WebHook-client/1.0"
    assert status_hook["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert not any(h.lower().startswith("x-signature") for h in status_hook["headers"])
    parsed = php_brackets(status_hook["body"])
    item = parsed["leads"]["status"]["0"]
    assert item["id"] == str(lead["id"])
    assert item["status_id"] == str(WON)
    assert item["old_status_id"] == str(lead["status_id"])
    assert item["pipeline_id"] == str(REAL_ESTATE)
    assert item["price"] == str(lead["price"])
    assert item["responsible_user_id"] == str(BROKER2_ID)
    assert item["modified_user_id"] == str(BROKER2_ID)
    assert item["account_id"] == str(ACCOUNT_ID)
    assert "old_pipeline_id" not in item
    assert set(item) >= {
        "name",
        "last_modified",
        "created_user_id",
        "date_create",
        "created_at",
        "updated_at",
    }
    assert all(isinstance(v, str) for v in item.values() if not isinstance(v, dict))
    field = item["custom_fields"]["0"]
    assert set(field) >= {"id", "name", "values"}
    assert parsed["account"] == {
        "subdomain": "reforyou",
        "id": str(ACCOUNT_ID),
        "_links": {"self": f"https://{ACCOUNT_HOST}"},
    }
    # The key order is amoCRM's: the item first, the account block last.
    assert status_hook["body"].startswith("leads%5Bstatus%5D%5B0%5D%5Bid%5D=")
    assert list(parsed) == ["leads", "account"]

    # An independent parser reads it the same way.
    hook = parse_webhook(status_hook["body"])
    assert hook.account_id == ACCOUNT_ID
    assert hook.subdomain == "reforyou"


def test_api_writes_notes_tasks_and_contacts_fire_hooks(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(
        client,
        admin,
        receiver.url,
        [*LEAD_EVENTS, "add_task", "update_task", "responsible_task", "add_contact"],
    )
    broker = bearer(emu.token_for("broker1@reforyou.example"))
    lead = own_lead(client, broker)
    # Own API writes fire hooks too: nothing documents an exclusion.
    client.patch(
        f"{AMO_API}/leads/{lead['id']}", headers=broker, json={"responsible_user_id": BROKER2_ID}
    )
    client.post(
        f"{AMO_API}/leads/notes",
        headers=admin,
        json=[{"entity_id": lead["id"], "note_type": "common", "params": {"text": "Звонок"}}],
    )
    task = client.post(
        f"{AMO_API}/tasks",
        headers=admin,
        json=[
            {
                "text": "Показ",
                "complete_till": 1_800_000_000,
                "entity_type": "leads",
                "entity_id": lead["id"],
                "responsible_user_id": BROKER2_ID,
            }
        ],
    ).json()["_embedded"]["tasks"][0]
    client.patch(
        f"{AMO_API}/tasks/{task['id']}",
        headers=admin,
        json={"is_completed": True, "result": {"text": "Готово"}, "text": "Показ квартиры"},
    )
    client.post(f"{AMO_API}/contacts", headers=admin, json=[{"name": "Пётр Иванов"}])
    done = emu.control.wait_for_deliveries(6, destination=receiver.url)
    assert sorted(d["event"] for d in done) == [
        "add_contact",
        "add_task",
        "note_lead",
        "responsible_lead",
        "update_lead",
        "update_task",
    ]
    bodies = {d["event"]: php_brackets(d["body"]) for d in done}

    responsible = bodies["responsible_lead"]["leads"]["responsible"]["0"]
    assert responsible["old_responsible_user_id"] == str(BROKER1_ID)
    assert responsible["responsible_user_id"] == str(BROKER2_ID)
    assert responsible["modified_user_id"] == str(BROKER1_ID)

    note = bodies["note_lead"]["leads"]["note"]["0"]["note"]
    assert note["text"] == "Звонок"
    assert (note["note_type"], note["element_type"], note["element_id"]) == (
        "4",
        "2",
        str(lead["id"]),
    )
    assert set(note) >= {"id", "created_by", "main_user_id", "metadata", "created_at", "updated_at"}

    added = bodies["add_task"]["task"]["add"]["0"]
    assert "tasks" not in bodies["add_task"]
    assert (added["element_type"], added["element_id"], added["status"]) == (
        "2",
        str(lead["id"]),
        "0",
    )
    assert added["complete_till"] == "2027-01-15 08:00:00"
    assert added["text"] == "Показ"
    updated = bodies["update_task"]["task"]["update"]["0"]
    assert (updated["status"], updated["action_close"], updated["old_text"]) == (
        "1",
        "1",
        "Показ",
    )
    assert updated["result"]["text"] == "Готово"

    contact = bodies["add_contact"]["contacts"]["add"]["0"]
    assert (contact["name"], contact["type"]) == ("Пётр Иванов", "contact")


def test_delivery_never_holds_up_the_api_answer(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url, ["update_lead"])
    receiver.delay = 1.5
    lead = own_lead(client, admin)
    started = time.monotonic()
    answer = client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 10})
    assert answer.status_code == 200
    assert time.monotonic() - started < 1.0
    assert emu.control.wait_for_deliveries(1, destination=receiver.url)[0]["status"] == 200


# ---- retries and disabling -----------------------------------------------------------------
def test_retries_follow_amocrms_schedule(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url, ["update_lead"])
    lead = own_lead(client, admin)
    # Any invalid answer: the first attempt plus retries 2 and 3 (5 and 15 minutes later).
    receiver.statuses = [404] * 10
    client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 1})
    first = emu.control.wait_for_deliveries(1, destination=receiver.url)
    assert [d["status"] for d in first] == [404]
    waiting = [d for d in emu.control.deliveries(destination=receiver.url) if d["status"] is None]
    assert len(waiting) == 1
    assert waiting[0]["attempt"] == 2
    assert waiting[0]["due_at"] - first[0]["sent_at"] == pytest.approx(300, abs=1)
    emu.control.advance_clock(301)
    assert len(emu.control.wait_for_deliveries(2, destination=receiver.url)) == 2
    emu.control.advance_clock(901)
    third = emu.control.wait_for_deliveries(3, destination=receiver.url)
    assert [d["attempt"] for d in third] == [1, 2, 3]
    emu.control.advance_clock(4000)
    time.sleep(0.5)
    assert len(emu.control.deliveries(destination=receiver.url)) == 3

    # A 5xx earns retries 4 and 5 too; the delays are shortened for the test.
    emu.control.clear_deliveries()
    emu.control.settings(webhook_retry_delays=[0.1, 0.1, 0.1, 0.1])
    receiver.statuses = [503] * 10
    client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 2})
    five = emu.control.wait_for_deliveries(5, destination=receiver.url)
    assert [d["attempt"] for d in five] == [1, 2, 3, 4, 5]
    time.sleep(0.5)
    assert len(emu.control.deliveries(destination=receiver.url)) == 5


def test_no_answer_in_time_is_a_failure(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url, ["update_lead"])
    emu.control.settings(webhook_timeout=0.3, webhook_retry_delays=[60, 60])
    receiver.delay = 1.0
    lead = own_lead(client, admin)
    client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 3})
    (failed,) = emu.control.wait_for_deliveries(1, destination=receiver.url)
    assert failed["status"] == 0
    assert failed["error"] == "ReadTimeout"


def test_repeated_failures_disable_the_webhook_until_saved_again(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str], receiver: Receiver
) -> None:
    subscribe(client, admin, receiver.url, ["update_lead"])
    emu.control.settings(webhook_disable_after=2, webhook_retry_delays=[0.05, 0.05])
    receiver.statuses = [500] * 10
    lead = own_lead(client, admin)
    client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 4})
    emu.control.wait_for_deliveries(3, destination=receiver.url)
    time.sleep(0.3)
    # More than 2 invalid answers and the latest invalid: disabled, no 4th attempt.
    assert len(emu.control.deliveries(destination=receiver.url)) == 3
    listed = client.get(f"{AMO_API}/webhooks", headers=admin).json()["_embedded"]["webhooks"]
    assert listed[0]["disabled"] is True
    client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 5})
    time.sleep(0.3)
    assert len(emu.control.deliveries(destination=receiver.url)) == 3

    receiver.statuses = []
    assert subscribe(client, admin, receiver.url, ["update_lead"])["disabled"] is False
    client.patch(f"{AMO_API}/leads/{lead['id']}", headers=admin, json={"price": 6})
    assert emu.control.wait_for_deliveries(4, destination=receiver.url)[-1]["status"] == 200
