"""The events poll without an admin: amoCRM shows each user only the events of what they may
see, so the poll reads with the token of every broker who follows the account now (a stream
open, or a CRM request within the half hour), within a quarter of the account's budget, the
longest-waiting first; brokers who do neither cost nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from backend_support import amo_user
from live_support import admin_get, connected_user, own_lead, user_id_of

EVENTS = "/api/v4/events"


def event_readers(emu: Any) -> list[int]:
    """The amoCRM users whose tokens read events, in order."""
    return [row["user_id"] for row in emu.control.requests(path=EVENTS)]


async def test_a_change_only_its_broker_may_see_reaches_them_through_their_own_poll(
    make_backend: Any, emu: Any
) -> None:
    backend = await make_backend()
    live = backend.services.live
    catalog = backend.services.crm.catalog
    watcher = await connected_user(backend, emu, "broker", 0)
    owner = await connected_user(backend, emu, "broker", 1)
    await connected_user(backend, emu, "broker", 2)  # connected, but not using the app now
    a_amo, b_amo, c_amo = (amo_user(emu, "broker", n)["id"] for n in range(3))
    account_id = admin_get(emu, "/api/v4/account")["id"]
    watchers = await live.subscribe(await user_id_of(backend, watcher), None)
    owners = await live.subscribe(await user_id_of(backend, owner), None)
    await live.follow_accounts()
    assert sorted(event_readers(emu)) == sorted([a_amo, b_amo])

    # The admin edits a lead on the second broker's open list, in amoCRM: only that broker
    # (and the admin) may see its events.
    lead = own_lead(emu, b_amo)
    listed = await backend.client.get("/api/v1/crm/leads", headers=owner, params={"limit": 50})
    assert lead["id"] in [item["id"] for item in listed.json()["data"]["items"]]
    emu.control.clear_requests()
    emu.control.act_as(amo_user(emu, "admin")["id"]).update_lead(lead["id"], price=98765)
    assert await live.poll_events(account_id) >= 1
    await live.settled()
    event = await asyncio.wait_for(owners.queue.get(), 5)
    assert (event.type, event.data) == ("lead.changed", {"leadId": lead["id"]})
    assert watchers.queue.empty()
    assert sorted(event_readers(emu)) == sorted([a_amo, b_amo])
    # Read by both pollers again (their overlap), the change is not applied twice.
    assert await live.poll_events(account_id) == 0

    # Polled brokers' copies follow amoCRM (they live for minutes); the idle one's do not.
    assert await catalog.is_followed(account_id, a_amo)
    assert await catalog.is_followed(account_id, b_amo)
    assert not await catalog.is_followed(account_id, c_amo)


async def test_a_crm_request_makes_a_broker_followed_and_nobody_costs_nothing(
    make_backend: Any, emu: Any
) -> None:
    backend = await make_backend()
    live = backend.services.live
    broker = await connected_user(backend, emu, "broker", 0)
    account_id = admin_get(emu, "/api/v4/account")["id"]
    emu.control.clear_requests()
    assert await live.poll_events(account_id) == 0
    assert event_readers(emu) == []
    answer = await backend.client.get("/api/v1/crm/tasks", headers=broker)
    assert answer.status_code == 200, answer.text
    await live.poll_events(account_id)
    assert event_readers(emu) == [amo_user(emu, "broker", 0)["id"]]


async def test_the_poll_keeps_to_its_share_of_the_budget_the_longest_waiting_first(
    make_backend: Any, emu: Any
) -> None:
    # 4 requests per second and a poll every second: a quarter of that is one broker a poll.
    backend = await make_backend(amocrm_rate_limit=4.0, events_poll_seconds=1.0)
    live = backend.services.live
    brokers = [await connected_user(backend, emu, "broker", n) for n in range(2)]
    for headers in brokers:
        await live.subscribe(await user_id_of(backend, headers), None)
    account_id = admin_get(emu, "/api/v4/account")["id"]
    emu.control.clear_requests()
    for _ in range(3):
        await live.poll_events(account_id)
    first, second, third = event_readers(emu)
    assert {first, second} == {amo_user(emu, "broker", n)["id"] for n in range(2)}
    assert third == first


async def test_a_closed_stream_stops_costing_polls_soon_after(make_backend: Any, emu: Any) -> None:
    backend = await make_backend()
    live = backend.services.live
    broker = await connected_user(backend, emu, "broker", 0)
    user_id = await user_id_of(backend, broker)
    account_id = admin_get(emu, "/api/v4/account")["id"]
    subscription = await live.subscribe(user_id, None)
    await live.unsubscribe(user_id, subscription)
    emu.control.clear_requests()
    await live.poll_events(account_id)
    assert len(event_readers(emu)) == 1  # a reconnect a moment later finds it followed
    # Two heartbeats without the stream saying it is still open: no longer watching.
    backend.clock.advance(2 * live.heartbeat_seconds + 6)
    emu.control.clear_requests()
    await live.poll_events(account_id)
    assert event_readers(emu) == []
