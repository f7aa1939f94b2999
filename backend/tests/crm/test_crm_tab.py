"""The CRM tab against the emulator: filters and paging match amoCRM's own data, rights hold,
lead details, conditional responses and the upstream budget."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from backend_support import Backend, amo_user, connect
from redis.asyncio import Redis

from scripts.harness_constants import API, REDIS_URL


async def walk(backend: Backend, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every lead of a listing, page by page, as the app's infinite scroll reads them."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await backend.client.get(
            f"{API}/crm/leads", headers=headers, params={**params, "page": page, "limit": 50}
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["page"] == page
        items.extend(data["items"])
        if not data["hasMore"]:
            return items
        assert len(data["items"]) == 50
        page += 1


async def test_filters_and_paging_match_amocrm_exactly(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("admin")
    amo = amo_direct("admin")
    pipelines = (await backend.client.get(f"{API}/crm/pipelines", headers=headers)).json()
    pipeline = next(p for p in pipelines["data"]["items"] if p["isMain"])
    stage = next(s for s in pipeline["stages"] if s["type"] == "open" and s["sort"] > 10)
    order = {"order[updated_at]": "desc"}

    everything = await walk(backend, headers, mine="false")
    expected = amo.all_leads(order)
    assert len(everything) == len(expected) == 360
    assert [lead["id"] for lead in everything] == [lead["id"] for lead in expected]

    in_pipeline = await walk(backend, headers, mine="false", pipelineId=pipeline["id"])
    expected = amo.all_leads({**order, "filter[pipeline_id]": pipeline["id"]})
    assert [lead["id"] for lead in in_pipeline] == [lead["id"] for lead in expected]
    assert len(expected) > 50, "the main pipeline spans several pages"

    in_stage = await walk(
        backend, headers, mine="false", pipelineId=pipeline["id"], stageId=stage["id"]
    )
    expected = amo.all_leads(
        {
            **order,
            "filter[statuses][0][pipeline_id]": pipeline["id"],
            "filter[statuses][0][status_id]": stage["id"],
        }
    )
    assert expected
    assert [lead["id"] for lead in in_stage] == [lead["id"] for lead in expected]
    for lead in in_stage:
        assert (lead["stageId"], lead["stageName"], lead["stageColor"]) == (
            stage["id"],
            stage["name"],
            stage["color"],
        )

    # The stage alone is enough when it belongs to one pipeline.
    by_stage = await walk(backend, headers, mine="false", stageId=stage["id"])
    assert [lead["id"] for lead in by_stage] == [lead["id"] for lead in in_stage]

    mine = await walk(backend, headers)
    admin_id = amo_user(emu, "admin")["id"]
    expected = amo.all_leads({**order, "filter[responsible_user_id]": admin_id})
    assert [lead["id"] for lead in mine] == [lead["id"] for lead in expected]

    needle = everything[7]["name"].split()[0]
    found = await walk(backend, headers, mine="false", query=needle)
    expected = amo.all_leads({**order, "query": needle})
    assert found
    assert [lead["id"] for lead in found] == [lead["id"] for lead in expected]


async def test_lead_cards_carry_contact_stage_and_responsible(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("admin")
    amo = amo_direct("admin")
    data = (
        await backend.client.get(f"{API}/crm/leads", headers=headers, params={"mine": "false"})
    ).json()["data"]
    users = {user["id"]: user["name"] for user in emu.control.users(account_subdomain="reforyou")}
    for lead in data["items"][:10]:
        raw = amo.get(f"/api/v4/leads/{lead['id']}", {"with": "contacts"})
        assert raw is not None
        assert lead["name"] == raw["name"]
        assert lead["price"] == raw["price"]
        assert lead["responsibleUserId"] == raw["responsible_user_id"]
        # An admin may read amoCRM's users, so every responsible user has a name.
        assert lead["responsibleUserName"] == users[raw["responsible_user_id"]]
        main = next(c for c in raw["_embedded"]["contacts"] if c["is_main"])
        contact = amo.get(f"/api/v4/contacts/{main['id']}")
        assert contact is not None
        phone = next(f for f in contact["custom_fields_values"] if f["field_code"] == "PHONE")
        assert lead["contactName"] == contact["name"]
        assert lead["contactPhone"] == phone["values"][0]["value"]


async def test_a_broker_sees_only_what_amocrm_shows_them(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    broker = amo_user(emu, "broker", 0)
    other = amo_user(emu, "broker", 1)
    headers = await connected("broker", 0)
    amo = amo_direct("admin")

    everything_visible = await walk(backend, headers, mine="false")
    assert everything_visible
    assert {lead["responsibleUserId"] for lead in everything_visible} == {broker["id"]}
    theirs = amo.all_leads({"filter[responsible_user_id]": other["id"]})
    assert theirs
    hidden = theirs[0]["id"]
    assert hidden not in {lead["id"] for lead in everything_visible}

    response = await backend.client.get(f"{API}/crm/leads/{hidden}", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert str(hidden) not in response.text.replace(response.json()["error"]["requestId"], "")
    missing = await backend.client.get(f"{API}/crm/leads/999999999", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"

    # The other broker's name never reaches this broker either: amoCRM hides users from them.
    search = await backend.client.get(
        f"{API}/crm/leads",
        headers=headers,
        params={"mine": "false", "query": theirs[0]["name"]},
    )
    assert search.status_code == 200
    assert hidden not in {lead["id"] for lead in search.json()["data"]["items"]}


async def test_group_rights_show_the_group_and_nothing_else(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    # Broker 6 has amoCRM's group rights over the "Vladimir Team" (brokers 6-8).
    headers = await connected("broker", 5)
    team = {amo_user(emu, "broker", i)["id"] for i in (5, 6, 7)}
    seen = await walk(backend, headers, mine="false")
    assert {lead["responsibleUserId"] for lead in seen} == team
    expected = amo_direct("broker", 5).all_leads({"order[updated_at]": "desc"})
    assert [lead["id"] for lead in seen] == [lead["id"] for lead in expected]
    mine = await walk(backend, headers)
    assert {lead["responsibleUserId"] for lead in mine} == {amo_user(emu, "broker", 5)["id"]}


async def test_broker_without_leads_gets_an_empty_page(backend: Backend, connected: Any) -> None:
    headers = await connected("broker", 8)  # joined yesterday: amoCRM answers 204
    response = await backend.client.get(f"{API}/crm/leads", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"items": [], "page": 1, "limit": 25, "hasMore": False}


async def test_names_when_amocrm_hides_users(
    backend: Backend, emu: Any, connected: Any, api_log: Any
) -> None:
    emu.control.settings(users_self_read=False)
    headers = await connected("broker", 5, name="Olena Broker")
    emu.control.clear_requests()
    seen = await walk(backend, headers, mine="false")
    me = amo_user(emu, "broker", 5)["id"]
    for lead in seen:
        if lead["responsibleUserId"] == me:
            # amoCRM would not tell us; the broker's own app profile does.
            assert lead["responsibleUserName"] == "Olena Broker"
        else:
            assert lead["responsibleUserName"] is None
    refused = [row for row in api_log(path="/api/v4/users") if row["status"] == 403]
    assert len(refused) == 1, "a refusal is remembered instead of asked again for every page"


async def test_lead_detail_with_contacts_fields_tags_and_timeline(
    backend: Backend, emu: Any, connected: Any, amo_direct: Any
) -> None:
    headers = await connected("broker", 0)
    amo = amo_direct("broker", 0)
    leads = amo.all_leads({"with": "contacts"})
    raw = next(
        lead
        for lead in leads
        if lead["custom_fields_values"]
        and lead["_embedded"]["tags"]
        and lead["_embedded"]["contacts"]
        and amo.get(f"/api/v4/leads/{lead['id']}/notes") is not None
    )
    response = await backend.client.get(f"{API}/crm/leads/{raw['id']}", headers=headers)
    assert response.status_code == 200, response.text
    lead = response.json()["data"]
    assert lead["id"] == raw["id"]
    assert lead["name"] == raw["name"]
    assert lead["responsibleUserId"] == amo_user(emu, "broker", 0)["id"]
    assert lead["createdAt"] is not None
    assert lead["pipelineName"]
    assert lead["stageName"]

    assert {c["id"] for c in lead["contacts"]} == {c["id"] for c in raw["_embedded"]["contacts"]}
    main = lead["contacts"][0]
    assert main["isMain"] is True
    assert main["id"] == next(c["id"] for c in raw["_embedded"]["contacts"] if c["is_main"])
    stored = amo.get(f"/api/v4/contacts/{main['id']}")
    assert stored is not None
    phones = [
        v["value"]
        for f in stored["custom_fields_values"]
        if f["field_code"] == "PHONE"
        for v in f["values"]
    ]
    emails = [
        v["value"]
        for f in stored["custom_fields_values"]
        if f["field_code"] == "EMAIL"
        for v in f["values"]
    ]
    assert [p["value"] for p in main["phones"]] == phones
    assert [e["value"] for e in main["emails"]] == emails
    assert lead["contactPhone"] == phones[0]

    assert {f["name"] for f in lead["customFields"]} == {
        f["field_name"] for f in raw["custom_fields_values"]
    }
    assert {t["name"] for t in lead["tags"]} == {t["name"] for t in raw["_embedded"]["tags"]}

    notes = amo.get(f"/api/v4/leads/{raw['id']}/notes")
    assert notes is not None
    timeline = lead["timeline"]
    note_entries = [entry for entry in timeline if entry["kind"] == "note"]
    assert {entry["id"] for entry in note_entries} == {
        f"note:{note['id']}" for note in notes["_embedded"]["notes"]
    }
    assert any(entry["kind"] == "event" for entry in timeline)
    times = [entry["createdAt"] for entry in timeline]
    assert times == sorted(times, reverse=True), "newest first"


async def test_conditional_responses(backend: Backend, connected: Any) -> None:
    headers = await connected("broker", 0)
    lead_id = None
    for path in ("/crm/pipelines", "/crm/leads", "/crm/leads/{id}"):
        url = f"{API}{path}".replace("{id}", str(lead_id))
        first = await backend.client.get(url, headers=headers)
        assert first.status_code == 200, first.text
        etag = first.headers["etag"]
        assert etag.startswith('"')
        again = await backend.client.get(url, headers={**headers, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        stale = await backend.client.get(url, headers={**headers, "If-None-Match": '"stale"'})
        assert stale.status_code == 200
        assert stale.json() == first.json()
        if path == "/crm/leads":
            lead_id = first.json()["data"]["items"][0]["id"]


async def test_caches_cut_upstream_calls(
    backend: Backend, emu: Any, connected: Any, api_log: Any
) -> None:
    headers = await connected("broker", 0)

    async def open_tab() -> None:
        pipelines, leads = await asyncio.gather(
            backend.client.get(f"{API}/crm/pipelines", headers=headers),
            backend.client.get(f"{API}/crm/leads", headers=headers),
        )
        assert pipelines.status_code == leads.status_code == 200

    emu.control.clear_requests()
    await open_tab()
    cold = api_log()
    # The pipelines screen also reads the account's currency, kept for an hour.
    assert sorted(row["path"] for row in cold) == [
        "/api/v4/account",
        "/api/v4/contacts",
        "/api/v4/leads",
        "/api/v4/leads/pipelines",
    ]
    emu.control.clear_requests()
    await open_tab()
    await open_tab()
    assert api_log() == [], "a repeat tab open within seconds costs amoCRM nothing"

    # Pull-to-refresh reads the list again, but pipelines stay cached for minutes.
    await asyncio.sleep(2.1)
    refreshed = await backend.client.get(
        f"{API}/crm/leads", headers=headers, params={"refresh": "true"}
    )
    assert refreshed.status_code == 200
    assert sorted(row["path"] for row in api_log()) == ["/api/v4/contacts", "/api/v4/leads"]


async def test_twenty_brokers_open_the_tab_at_once(
    backend: Backend, emu: Any, connected: Any, api_log: Any
) -> None:
    # Each amoCRM user links to one ForYou user: every seeded user of the account connects
    # once, and each opens the tab on two devices at the same time (20 tabs in all).
    users = [await connected("admin", 0)] + [await connected("broker", i) for i in range(9)]
    brokers = users + users
    emu.control.clear_requests()

    async def open_tab(headers: dict[str, str]) -> list[int]:
        results = await asyncio.gather(
            backend.client.get(f"{API}/crm/pipelines", headers=headers),
            backend.client.get(f"{API}/crm/leads", headers=headers),
        )
        return [response.status_code for response in results]

    statuses = await asyncio.gather(*(open_tab(headers) for headers in brokers))
    log = api_log()
    assert [row for row in log if row["status"] == 429] == []
    assert all(status == [200, 200] for status in statuses), statuses
    assert len([row for row in log if row["path"] == "/api/v4/leads/pipelines"]) == 1


async def test_reauthorisation_is_a_distinct_error(
    backend: Backend, emu: Any, connected: Any
) -> None:
    headers = await connected("broker", 0)
    emu.control.revoke(amo_user(emu, "broker", 0)["id"])
    response = await backend.client.get(f"{API}/crm/leads", headers=headers, params={"page": 3})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "amo_reauth_required"


async def test_bad_listing_input(backend: Backend, connected: Any) -> None:
    headers = await connected("broker", 0)
    for params in (
        {"limit": 51},
        {"limit": 0},
        {"page": 0},
        {"pipelineId": "x"},
        {"stageId": 142},  # won exists in every pipeline: which one is meant?
        {"mine": "perhaps"},
    ):
        response = await backend.client.get(f"{API}/crm/leads", headers=headers, params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["error"]["code"] == "validation_error"


async def test_replicas_share_the_cache_through_redis(
    make_backend: Any, emu: Any, api_log: Any
) -> None:
    prefix = f"foryou-test:{uuid.uuid4().hex[:12]}:"
    first = await make_backend(redis_url=REDIS_URL, redis_prefix=prefix)
    second = await make_backend(redis_url=REDIS_URL, redis_prefix=prefix)
    try:
        email, _ = await first.create_user()
        headers = await first.login(email)
        await connect(first, emu, headers, amo_user(emu, "broker", 0))
        emu.control.clear_requests()

        from_first = await first.client.get(f"{API}/crm/leads", headers=headers)
        assert from_first.status_code == 200
        assert len(api_log()) == 3  # pipelines (for stage names), leads, contacts
        currency = await first.client.get(f"{API}/crm/pipelines", headers=headers)
        assert [row["path"] for row in api_log()][3:] == ["/api/v4/account"]
        emu.control.clear_requests()
        from_second = await second.client.get(f"{API}/crm/leads", headers=headers)
        pipelines = await second.client.get(f"{API}/crm/pipelines", headers=headers)
        assert from_second.json() == from_first.json()
        assert pipelines.json() == currency.json()
        assert api_log() == [], "the other replica answers from the shared copy"

        # A lead created through one replica retires the broker's pages on every replica.
        pipeline = next(p for p in pipelines.json()["data"]["items"] if p["isMain"])
        created = await second.client.post(
            f"{API}/crm/leads",
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "pipelineId": pipeline["id"],
                "stageId": pipeline["stages"][1]["id"],
                "name": "Replica lead",
            },
        )
        assert created.status_code == 201, created.text
        again = await first.client.get(f"{API}/crm/leads", headers=headers)
        assert again.json()["data"]["items"][0]["id"] == created.json()["data"]["id"]
    finally:
        client: Redis = Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
