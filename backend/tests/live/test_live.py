"""Live updates against the emulator: webhooks registered with an admin's token (the agency
connection's first) and delivered by amoCRM to our receiver, the events poll without an
admin, each broker hearing only about their own leads and tasks, resume, and fan-out between
two replicas through Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from backend_support import amo_user
from foryou.auth.models import Role
from foryou.live.hub import LocalHub, RedisHub
from live_support import (
    admin_get,
    connected_user,
    free_port,
    own_lead,
    read_stream,
    stop,
    user_id_of,
)
from redis.asyncio import Redis

from scripts.harness_constants import ACCOUNT_HOST, API, REDIS_URL

WEBHOOKS = f"{API}/integrations/amo-crm/webhooks"


async def test_webhooks_registered_delivered_and_routed_to_the_right_broker(
    make_backend: Any, emu: Any, serve: Any
) -> None:
    port = free_port()
    backend = await make_backend(public_url=f"http://127.0.0.1:{port}")
    served = await serve(backend, port)
    await connected_user(backend, emu, "admin")
    # Registered as soon as the admin's connection is stored, before any worker run.
    hooks = admin_get(emu, "/api/v4/webhooks")["_embedded"]["webhooks"]
    assert [h for h in hooks if h["destination"].startswith(served.url)]
    broker_a = await connected_user(backend, emu, "broker", 0)
    broker_b = await connected_user(backend, emu, "broker", 1)
    await backend.services.live.follow_accounts()
    hooks = admin_get(emu, "/api/v4/webhooks")["_embedded"]["webhooks"]
    (ours,) = [h for h in hooks if h["destination"].startswith(served.url)]
    assert "update_lead" in ours["settings"]
    assert "responsible_lead" in ours["settings"]
    # Checked again on the next run: nothing is sent when it is in place.
    posts = len(emu.control.requests(method="POST", path="/api/v4/webhooks"))
    await backend.services.live.follow_accounts()
    assert len(emu.control.requests(method="POST", path="/api/v4/webhooks")) == posts

    a_amo, b_amo = amo_user(emu, "broker", 0)["id"], amo_user(emu, "broker", 1)["id"]
    lead_a, lead_b = own_lead(emu, a_amo), own_lead(emu, b_amo)
    stream_a = await read_stream(served.url, broker_a)
    ticket = (await backend.client.post(f"{API}/events/stream-ticket", headers=broker_b)).json()[
        "data"
    ]["ticket"]
    stream_b = await read_stream(served.url, {}, {"ticket": ticket})
    try:
        admin = emu.control.act_as(amo_user(emu, "admin")["id"])
        assert admin.update_lead(lead_a["id"], price=777).status == 200
        changed = await stream_a.wait_for("lead.changed")
        assert changed["data"] == {"leadId": lead_a["id"]}
        assert changed["id"].isdigit()

        assert admin.set_responsible(lead_b["id"], a_amo).status == 200
        assigned = await stream_a.wait_for("lead.assigned")
        assert assigned["data"]["leadId"] == lead_b["id"]
        assert assigned["data"]["name"] == lead_b["name"]
        await asyncio.sleep(0.5)
        # B was responsible before the change: told that it changed, never about A's lead.
        assert all(e["data"].get("leadId") != lead_a["id"] for e in stream_b.events)
        assert all(e["event"] != "lead.assigned" for e in stream_b.events)

        answer = emu.control.act_as(a_amo).add_task(
            "Call back", int(time.time()) + 3600, lead_id=lead_a["id"]
        )
        task_id = answer.body["_embedded"]["tasks"][0]["id"]
        task = await stream_a.wait_for("task.changed")
        assert task["data"] == {"taskId": task_id}
        assert all(e["event"] != "task.changed" for e in stream_b.events)
    finally:
        await stop(stream_a)
        await stop(stream_b)
    # The ticket was single use.
    again = await backend.client.get(f"{API}/events/stream", params={"ticket": ticket})
    assert again.status_code == 401


async def test_the_agency_connection_registers_the_webhook_and_reads_nothing_else(
    make_backend: Any, emu: Any
) -> None:
    backend = await make_backend()
    minted = emu.control.long_lived_token(amo_user(emu, "admin")["id"], days=60)
    stored = await backend.client.post(
        f"{API}/admin/amo-crm/agency-connection",
        headers=await backend.new_broker(role=Role.ADMIN),
        json={"domain": ACCOUNT_HOST, "token": minted.token},
    )
    assert stored.status_code == 200, stored.text
    # No broker is an amoCRM admin: without the agency connection only the poll would do.
    broker = await connected_user(backend, emu, "broker", 0)
    emu.control.clear_requests()
    await backend.services.live.follow_accounts()
    webhook_calls = emu.control.requests(path="/api/v4/webhooks")
    assert [row["method"] for row in webhook_calls] == ["GET", "POST"]
    assert all(row["token_fingerprint"] == minted.fingerprint for row in webhook_calls)
    assert not emu.control.requests(path="/api/v4/events")
    hooks = admin_get(emu, "/api/v4/webhooks")["_embedded"]["webhooks"]
    assert any(WEBHOOKS in hook["destination"] for hook in hooks)
    # The broker's CRM reads stay theirs.
    emu.control.clear_requests()
    listed = await backend.client.get(f"{API}/crm/leads", headers=broker)
    assert listed.status_code == 200, listed.text
    for row in emu.control.requests():
        if row["token_fingerprint"] == minted.fingerprint:
            assert row["path"] in ("/api/v4/webhooks", "/api/v4/users"), row


async def test_webhook_refusals_dedupe_and_unknown_events(make_backend: Any, emu: Any) -> None:
    backend = await make_backend()
    await connected_user(backend, emu, "admin")
    await backend.services.live.follow_accounts()
    hooks = admin_get(emu, "/api/v4/webhooks")["_embedded"]["webhooks"]
    destination = next(h["destination"] for h in hooks if WEBHOOKS in h["destination"])
    key = destination.rsplit("/", 1)[1]
    account_id = admin_get(emu, "/api/v4/account")["id"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    unknown = await backend.client.post(f"{WEBHOOKS}/{'x' * 43}", content=b"a=1", headers=form)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "webhook_unknown"
    bad = await backend.client.post(f"{WEBHOOKS}/{key}", content=b"a]b[=1", headers=form)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "webhook_invalid"
    foreign = urlencode({"leads[update][0][id]": "1", "account[id]": str(account_id + 1)})
    mismatch = await backend.client.post(f"{WEBHOOKS}/{key}", content=foreign, headers=form)
    assert mismatch.status_code == 400

    talk = urlencode({"talk[add][0][id]": "5", "account[id]": str(account_id)})
    ignored = await backend.client.post(f"{WEBHOOKS}/{key}", content=talk, headers=form)
    assert ignored.status_code == 200
    assert ignored.json()["data"] == {"accepted": 0}

    update = urlencode(
        {
            "leads[update][0][id]": "31000001",
            "leads[update][0][responsible_user_id]": "5",
            "account[id]": str(account_id),
        }
    )
    first = await backend.client.post(f"{WEBHOOKS}/{key}", content=update, headers=form)
    assert first.json()["data"] == {"accepted": 1}
    repeat = await backend.client.post(f"{WEBHOOKS}/{key}", content=update, headers=form)
    assert repeat.json()["data"] == {"accepted": 0}
    await backend.services.live.settled()


async def test_events_poll_without_an_admin(make_backend: Any, emu: Any) -> None:
    backend = await make_backend()
    broker = await connected_user(backend, emu, "broker", 0)
    other = await connected_user(backend, emu, "broker", 1)
    live = backend.services.live
    account_id = admin_get(emu, "/api/v4/account")["id"]
    a_amo = amo_user(emu, "broker", 0)["id"]
    lead = own_lead(emu, a_amo)
    # The broker's list shows the lead: from then on they hear about its changes.
    listed = await backend.client.get(f"{API}/crm/leads", headers=broker, params={"limit": 50})
    assert lead["id"] in [item["id"] for item in listed.json()["data"]["items"]]
    await live.follow_accounts()  # no admin: the broker who listed leads is polled
    assert admin_get(emu, "/api/v4/webhooks") is None
    mine = await live.subscribe(await user_id_of(backend, broker), None)
    theirs = await live.subscribe(await user_id_of(backend, other), None)
    emu.control.act_as(a_amo).update_lead(lead["id"], price=4321)
    assert await live.poll_events(account_id) >= 1
    await live.settled()
    event = await asyncio.wait_for(mine.queue.get(), 5)
    assert (event.type, event.data) == ("lead.changed", {"leadId": lead["id"]})
    assert theirs.queue.empty()
    # The overlap reads the same events again; they are not applied twice.
    assert await live.poll_events(account_id) == 0
    # Only the broker's token read events, inside the shared budget.
    assert emu.control.requests(path="/api/v4/events")


def board_ids(answer: Any) -> set[int]:
    data = answer.json()["data"]
    return {task["id"] for group in ("overdue", "today", "upcoming") for task in data[group]}


async def admin_adds_task_and_broker_hears(
    backend: Any, emu: Any, broker: dict[str, str], deliver: Any
) -> None:
    """The admin adds a task for the broker in amoCRM: the broker's cached board (a 304 until
    then) is retired and they are told `task.changed` by whatever `deliver` runs."""
    live = backend.services.live
    b_amo = amo_user(emu, "broker", 0)["id"]
    board = await backend.client.get(f"{API}/crm/tasks", headers=broker)
    assert board.status_code == 200, board.text
    etag = board.headers["etag"]
    cached = await backend.client.get(f"{API}/crm/tasks", headers={**broker, "If-None-Match": etag})
    assert cached.status_code == 304
    mine = await live.subscribe(await user_id_of(backend, broker), None)
    added = emu.control.act_as(amo_user(emu, "admin")["id"]).add_task(
        "Show the flat", int(time.time()) + 3600, responsible_user_id=b_amo
    )
    task_id = added.body["_embedded"]["tasks"][0]["id"]
    await deliver()
    event = await asyncio.wait_for(mine.queue.get(), 10)
    assert (event.type, event.data) == ("task.changed", {"taskId": task_id})
    fresh = await backend.client.get(f"{API}/crm/tasks", headers={**broker, "If-None-Match": etag})
    assert fresh.status_code == 200
    assert task_id in board_ids(fresh)


async def test_a_task_the_admin_adds_reaches_the_broker_through_the_poll(
    make_backend: Any, emu: Any
) -> None:
    backend = await make_backend()
    broker = await connected_user(backend, emu, "broker", 0)
    live = backend.services.live
    account_id = admin_get(emu, "/api/v4/account")["id"]
    await live.follow_accounts()  # no admin, and nobody uses the CRM yet: nothing is polled
    assert not emu.control.requests(path="/api/v4/events")

    async def poll() -> None:
        assert await live.poll_events(account_id) >= 1
        await live.settled()

    await admin_adds_task_and_broker_hears(backend, emu, broker, poll)


async def test_a_task_the_admin_adds_reaches_the_broker_through_the_webhook(
    make_backend: Any, emu: Any, serve: Any
) -> None:
    port = free_port()
    backend = await make_backend(public_url=f"http://127.0.0.1:{port}")
    await serve(backend, port)
    await connected_user(backend, emu, "admin")
    broker = await connected_user(backend, emu, "broker", 0)
    await backend.services.live.follow_accounts()

    async def delivered() -> None:
        return None  # amoCRM sends the hook by itself

    await admin_adds_task_and_broker_hears(backend, emu, broker, delivered)


async def test_resume_from_the_buffer_or_reset() -> None:
    hub = LocalHub()
    user = uuid.uuid4()
    for n in range(3):
        await hub.publish(user, "lead.changed", {"leadId": n})
    resumed = await hub.subscribe(user, 1)
    assert [e.id for e in resumed.backlog] == [2, 3]
    fresh = await hub.subscribe(user, 3)
    assert fresh.backlog == []
    for n in range(150):
        await hub.publish(user, "lead.changed", {"leadId": n})
    too_old = await hub.subscribe(user, 2)
    assert [e.type for e in too_old.backlog] == ["reset"]
    unknown = await hub.subscribe(user, 10_000)
    assert [e.type for e in unknown.backlog] == ["reset"]


async def test_sse_resume_over_http(make_backend: Any, emu: Any, serve: Any) -> None:
    port = free_port()
    backend = await make_backend(public_url=f"http://127.0.0.1:{port}")
    served = await serve(backend, port)
    broker = await connected_user(backend, emu, "broker", 0)
    user_id = await user_id_of(backend, broker)
    hub = backend.services.live._hub  # the test plays the change router
    for n in (1, 2, 3):
        await hub.publish(user_id, "task.changed", {"taskId": n})
    stream = await read_stream(served.url, {**broker, "Last-Event-ID": "1"})
    try:
        await stream.wait_for("task.changed")
        await asyncio.sleep(0.2)
        assert [e["id"] for e in stream.events] == ["2", "3"]
    finally:
        await stop(stream)
    by_query = await read_stream(served.url, broker, {"lastEventId": "0"})
    try:
        await by_query.wait_for("task.changed")
        await asyncio.sleep(0.2)
        assert [e["id"] for e in by_query.events] == ["1", "2", "3"]
    finally:
        await stop(by_query)


async def test_two_replicas_fan_out_through_redis(make_backend: Any, emu: Any) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    first = await make_backend(redis_url=REDIS_URL, redis_prefix=prefix)
    second = await make_backend(redis_url=REDIS_URL, redis_prefix=prefix)
    await connected_user(first, emu, "admin")
    broker = await connected_user(first, emu, "broker", 0)
    user_id = await user_id_of(first, broker)
    await first.services.live.follow_accounts()
    hooks = admin_get(emu, "/api/v4/webhooks")["_embedded"]["webhooks"]
    key = next(h["destination"] for h in hooks if WEBHOOKS in h["destination"]).rsplit("/", 1)[1]
    account_id = admin_get(emu, "/api/v4/account")["id"]
    lead = own_lead(emu, amo_user(emu, "broker", 0)["id"])
    on_second = await second.services.live.subscribe(user_id, None)
    body = urlencode(
        {
            "leads[update][0][id]": str(lead["id"]),
            "leads[update][0][responsible_user_id]": str(lead["responsible_user_id"]),
            "account[id]": str(account_id),
        }
    )
    received = await first.client.post(
        f"{WEBHOOKS}/{key}",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert received.json()["data"] == {"accepted": 1}
    event = await asyncio.wait_for(on_second.queue.get(), 10)
    assert (event.type, event.data) == ("lead.changed", {"leadId": lead["id"]})
    # The second replica resumes from the same buffer.
    resumed = await second.services.live.subscribe(user_id, 0)
    assert [e.id for e in resumed.backlog] == [event.id]
    # And a duplicate delivered to the other replica is dropped there.
    again = await second.client.post(
        f"{WEBHOOKS}/{key}",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert again.json()["data"] == {"accepted": 0}
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
    assert isinstance(second.services.live._hub, RedisHub)


async def test_two_processes_checking_one_account_register_one_webhook(
    make_backend: Any, emu: Any
) -> None:
    first, second = await make_backend(), await make_backend()
    emu.control.clear_requests()
    await connected_user(first, emu, "admin")
    for _ in range(2):
        await asyncio.gather(
            first.services.live.follow_accounts(), second.services.live.follow_accounts()
        )
    hooks = admin_get(emu, "/api/v4/webhooks")["_embedded"]["webhooks"]
    (ours,) = [hook for hook in hooks if WEBHOOKS in hook["destination"]]
    assert len(emu.control.requests(method="POST", path="/api/v4/webhooks")) == 1
    # The stored key is the registered one: amoCRM's deliveries are accepted.
    account_id = admin_get(emu, "/api/v4/account")["id"]
    delivered = await second.client.post(
        f"{WEBHOOKS}/{ours['destination'].rsplit('/', 1)[1]}",
        content=urlencode({"talk[add][0][id]": "5", "account[id]": str(account_id)}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert delivered.status_code == 200, delivered.text


async def test_a_stream_outlives_its_heartbeats_and_ends_with_its_lifetime(
    make_backend: Any, emu: Any, serve: Any
) -> None:
    port = free_port()
    backend = await make_backend(
        public_url=f"http://127.0.0.1:{port}",
        live_heartbeat_seconds=0.1,
        live_stream_max_seconds=2.0,
    )
    served = await serve(backend, port)
    broker = await connected_user(backend, emu, "broker", 0)
    stream = await read_stream(served.url, broker)
    try:
        await asyncio.sleep(0.5)  # several heartbeats without an event
        assert stream.task is not None
        assert not stream.task.done()
        await backend.services.live._hub.publish(
            await user_id_of(backend, broker), "task.changed", {"taskId": 7}
        )
        event = await stream.wait_for("task.changed", timeout=5)
        assert event["data"] == {"taskId": 7}
        # The server ends it; the client reconnects and is authenticated again.
        await asyncio.wait_for(stream.task, 5)
    finally:
        await stop(stream)


async def test_a_change_retires_only_the_lists_that_can_hold_the_lead(
    make_backend: Any, emu: Any, serve: Any
) -> None:
    """With the webhook, the admin's edit of A's lead retires A's own-lead pages and every
    account-wide page; B's own-lead page stays cached (no amoCRM call for it)."""
    port = free_port()
    backend = await make_backend(public_url=f"http://127.0.0.1:{port}")
    await serve(backend, port)
    await connected_user(backend, emu, "admin")
    broker_a = await connected_user(backend, emu, "broker", 0)
    broker_b = await connected_user(backend, emu, "broker", 1)
    await backend.services.live.follow_accounts()
    a_amo = amo_user(emu, "broker", 0)["id"]
    lead_a = own_lead(emu, a_amo)

    async def page(headers: dict[str, str], mine: str, etag: str | None = None) -> Any:
        extra = {"If-None-Match": etag} if etag else {}
        return await backend.client.get(
            f"{API}/crm/leads", headers={**headers, **extra}, params={"mine": mine, "limit": 50}
        )

    first_a, first_b = await page(broker_a, "true"), await page(broker_b, "true")
    everything_b = await page(broker_b, "false")
    assert lead_a["id"] in [item["id"] for item in first_a.json()["data"]["items"]]
    emu.control.act_as(amo_user(emu, "admin")["id"]).update_lead(lead_a["id"], name="Edited")
    await backend.services.live.settled()
    for _ in range(100):  # amoCRM sends the hook on its own; wait until it was applied
        again_a = await page(broker_a, "true", first_a.headers["etag"])
        if again_a.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert again_a.status_code == 200
    assert "Edited" in [item["name"] for item in again_a.json()["data"]["items"]]
    emu.control.clear_requests()
    still_b = await page(broker_b, "true", first_b.headers["etag"])
    assert still_b.status_code == 304
    assert emu.control.requests(path="/api/v4/leads") == []
    # B's page of every lead they may see is retired (amoCRM read again).
    await page(broker_b, "false", everything_b.headers["etag"])
    assert emu.control.requests(path="/api/v4/leads")
