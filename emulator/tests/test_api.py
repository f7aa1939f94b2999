"""AMO_API v4 with each user's rights: account, users, leads, pipelines, contacts, notes, tasks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from amocrm_emulator.testing import RunningEmulator
from emu_support import bearer

from scripts.harness_constants import (
    ACCOUNT_ID,
    ADMIN_ID,
    AMO_API,
    BROKER1_ID,
    BROKER9_ID,
    GROUP_LEAD_ID,
)

HAL = "application/hal+json"
PROBLEM = "application/problem+json"


@pytest.fixture
def broker(emu: RunningEmulator, client: httpx.Client) -> dict[str, str]:
    return bearer(emu.token_for("broker1@reforyou.example"))


@pytest.fixture
def admin(emu: RunningEmulator, client: httpx.Client) -> dict[str, str]:
    return bearer(emu.token_for("admin@reforyou.example"))


def all_leads(client: httpx.Client, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    leads: list[dict[str, Any]] = []
    url: str | None = f"{AMO_API}/leads"
    query: dict[str, Any] | None = {"limit": 250, **params}
    while url:
        page = client.get(url, headers=headers, params=query)
        if page.status_code == 204:
            break
        assert page.status_code == 200, page.text
        leads.extend(page.json()["_embedded"]["leads"])
        url = page.json()["_links"].get("next", {}).get("href")
        query = None
    return leads


def test_account_names_the_current_user(
    client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    answer = client.get(f"{AMO_API}/account", headers=broker)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(HAL)
    body = answer.json()
    assert body["id"] == ACCOUNT_ID
    assert body["subdomain"] == "reforyou"
    assert body["current_user_id"] == BROKER1_ID
    assert body["_links"]["self"]["href"] == f"{AMO_API}/account"
    assert client.get(f"{AMO_API}/account", headers=admin).json()["current_user_id"] == ADMIN_ID


def test_account_with_parameters(client: httpx.Client, broker: dict[str, str]) -> None:
    body = client.get(
        f"{AMO_API}/account",
        headers=broker,
        params={"with": "amojo_id,users_groups,task_types,version"},
    ).json()
    assert body["amojo_id"]
    assert isinstance(body["version"], int)
    assert {g["name"] for g in body["_embedded"]["users_groups"]} == {
        "Отдел продаж",
        "Vladimir Team",
    }
    assert body["_embedded"]["task_types"]


def test_users_are_for_admins_only(
    client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    refused = client.get(f"{AMO_API}/users/{BROKER1_ID}", headers=broker)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert client.get(f"{AMO_API}/users", headers=broker).status_code == 403
    user = client.get(f"{AMO_API}/users/{BROKER1_ID}", headers=admin, params={"with": "group"})
    assert user.status_code == 200
    assert user.json()["email"] == "broker1@reforyou.example"
    assert user.json()["rights"]["is_admin"] is False
    listing = client.get(f"{AMO_API}/users", headers=admin).json()
    assert listing["_total_items"] == 10
    assert client.get(f"{AMO_API}/users/999", headers=admin).status_code == 204


def test_admin_sees_every_lead_broker_only_their_own(
    client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    everything = all_leads(client, admin)
    assert len(everything) >= 300
    owners = {lead["responsible_user_id"] for lead in everything}
    assert len(owners) >= 9
    mine = all_leads(client, broker)
    assert mine
    assert {lead["responsible_user_id"] for lead in mine} == {BROKER1_ID}
    assert len(mine) == sum(1 for lead in everything if lead["responsible_user_id"] == BROKER1_ID)


def test_group_rights_show_the_group(
    emu: RunningEmulator, client: httpx.Client, admin: dict[str, str]
) -> None:
    lead_headers = bearer(emu.token_for("broker6@reforyou.example"))
    everything = all_leads(client, admin)
    group_id = next(
        ld["group_id"] for ld in everything if ld["responsible_user_id"] == GROUP_LEAD_ID
    )
    seen = all_leads(client, lead_headers)
    assert {ld["id"] for ld in seen} == {
        ld["id"] for ld in everything if ld["group_id"] == group_id
    }
    assert len({ld["responsible_user_id"] for ld in seen}) == 3


def test_broker_without_leads_gets_204_with_empty_body(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    headers = bearer(emu.token_for("broker9@reforyou.example"))
    answer = client.get(f"{AMO_API}/leads", headers=headers)
    assert answer.status_code == 204
    assert answer.content == b""
    assert client.get(f"{AMO_API}/account", headers=headers).json()["current_user_id"] == BROKER9_ID


def test_pagination_links(client: httpx.Client, admin: dict[str, str]) -> None:
    first = client.get(f"{AMO_API}/leads", headers=admin, params={"limit": 100}).json()
    assert first["_page"] == 1
    assert len(first["_embedded"]["leads"]) == 100
    links = first["_links"]
    assert "prev" not in links
    assert links["next"]["href"] == f"{AMO_API}/leads?page=2&limit=100"
    second = client.get(links["next"]["href"], headers=admin).json()
    assert second["_page"] == 2
    assert second["_links"]["prev"]["href"] == f"{AMO_API}/leads?page=1&limit=100"
    last_page = -(-len(all_leads(client, admin)) // 100)
    last = client.get(
        f"{AMO_API}/leads", headers=admin, params={"limit": 100, "page": last_page}
    ).json()
    assert "next" not in last["_links"]
    beyond = client.get(
        f"{AMO_API}/leads", headers=admin, params={"limit": 100, "page": last_page + 1}
    )
    assert beyond.status_code == 204


def test_default_limit_is_50(client: httpx.Client, admin: dict[str, str]) -> None:
    assert len(client.get(f"{AMO_API}/leads", headers=admin).json()["_embedded"]["leads"]) == 50


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 251},
        {"limit": 10**30},
        {"limit": 0},
        {"limit": "ten"},
        {"page": -1},
        {"page": "1e9"},
        {"order[price]": "asc"},
        {"order[id]": "sideways"},
        {"filter[pipeline_id]": "x"},
        {"filter[statuses][0][pipeline_id]": "1"},
        {"filter[created_at][from]": "yesterday"},
    ],
)
def test_bad_query_gets_validation_errors(
    client: httpx.Client, admin: dict[str, str], params: dict[str, Any]
) -> None:
    answer = client.get(f"{AMO_API}/leads", headers=admin, params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["title"] == "Bad Request"
    assert body["detail"] == "Request validation failed"
    assert body["validation-errors"][0]["errors"]


def test_filters(client: httpx.Client, admin: dict[str, str]) -> None:
    everything = all_leads(client, admin)
    pipelines = client.get(f"{AMO_API}/leads/pipelines", headers=admin).json()["_embedded"]
    partners = next(p for p in pipelines["pipelines"] if p["name"] == "Партнеры")
    in_partners = all_leads(client, admin, **{"filter[pipeline_id]": partners["id"]})
    assert {ld["id"] for ld in in_partners} == {
        ld["id"] for ld in everything if ld["pipeline_id"] == partners["id"]
    }
    won = all_leads(
        client,
        admin,
        **{
            "filter[statuses][0][pipeline_id]": partners["id"],
            "filter[statuses][0][status_id]": 142,
        },
    )
    assert won
    assert all(ld["status_id"] == 142 and ld["pipeline_id"] == partners["id"] for ld in won)
    owned = all_leads(client, admin, **{"filter[responsible_user_id][]": BROKER1_ID})
    assert {ld["responsible_user_id"] for ld in owned} == {BROKER1_ID}
    # A broker's filter never widens their rights.


def test_broker_filter_cannot_widen_rights(client: httpx.Client, broker: dict[str, str]) -> None:
    others = client.get(
        f"{AMO_API}/leads", headers=broker, params={"filter[responsible_user_id]": ADMIN_ID}
    )
    assert others.status_code == 204


def test_order_and_query(client: httpx.Client, admin: dict[str, str]) -> None:
    newest = client.get(
        f"{AMO_API}/leads", headers=admin, params={"order[created_at]": "desc", "limit": 20}
    ).json()
    stamps = [ld["created_at"] for ld in newest["_embedded"]["leads"]]
    assert stamps == sorted(stamps, reverse=True)
    some = newest["_embedded"]["leads"][0]
    found = client.get(f"{AMO_API}/leads", headers=admin, params={"query": some["name"]}).json()
    assert some["id"] in {ld["id"] for ld in found["_embedded"]["leads"]}
    contact_id = client.get(
        f"{AMO_API}/leads/{some['id']}", headers=admin, params={"with": "contacts"}
    ).json()["_embedded"]["contacts"][0]["id"]
    contact = client.get(
        f"https://reforyou.amocrm.ru/api/v4/contacts/{contact_id}", headers=admin
    ).json()
    phone = next(v for v in contact["custom_fields_values"] if v["field_code"] == "PHONE")
    by_phone = client.get(
        f"{AMO_API}/leads", headers=admin, params={"query": phone["values"][0]["value"]}
    ).json()
    assert some["id"] in {ld["id"] for ld in by_phone["_embedded"]["leads"]}
    assert (
        client.get(
            f"{AMO_API}/leads", headers=admin, params={"query": "no-such-text-anywhere"}
        ).status_code
        == 204
    )


def test_lead_shape_and_with_contacts(client: httpx.Client, broker: dict[str, str]) -> None:
    lead = client.get(
        f"{AMO_API}/leads", headers=broker, params={"with": "contacts", "limit": 1}
    ).json()["_embedded"]["leads"][0]
    for key in (
        "id",
        "name",
        "price",
        "responsible_user_id",
        "group_id",
        "status_id",
        "pipeline_id",
        "created_at",
        "updated_at",
        "closed_at",
        "custom_fields_values",
        "account_id",
        "is_deleted",
    ):
        assert key in lead
    assert lead["_links"]["self"]["href"] == f"{AMO_API}/leads/{lead['id']}"
    assert "tags" in lead["_embedded"]
    assert lead["_embedded"]["contacts"][0]["is_main"] is True


def test_lead_by_id_and_204_when_missing_or_not_visible(
    client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    mine = client.get(f"{AMO_API}/leads", headers=broker).json()["_embedded"]["leads"][0]
    assert client.get(f"{AMO_API}/leads/{mine['id']}", headers=broker).json()["id"] == mine["id"]
    assert client.get(f"{AMO_API}/leads/1", headers=broker).status_code == 204
    assert client.get(f"{AMO_API}/leads/abc", headers=broker).status_code == 204
    others = client.get(
        f"{AMO_API}/leads", headers=admin, params={"filter[responsible_user_id]": ADMIN_ID}
    ).json()
    foreign = others["_embedded"]["leads"][0]["id"]
    hidden = client.get(f"{AMO_API}/leads/{foreign}", headers=broker)
    assert hidden.status_code == 204
    assert hidden.content == b""


def test_pipelines_have_coloured_stages_with_won_and_lost(
    client: httpx.Client, broker: dict[str, str]
) -> None:
    answer = client.get(f"{AMO_API}/leads/pipelines", headers=broker)
    assert answer.headers["content-type"].startswith(HAL)
    pipelines = answer.json()["_embedded"]["pipelines"]
    assert [p["name"] for p in pipelines] == ["Real Estate", "Партнеры", "Vladimir Team"]
    for pipeline in pipelines:
        statuses = pipeline["_embedded"]["statuses"]
        ids = {s["id"] for s in statuses}
        assert {142, 143} <= ids
        assert all(s["color"].startswith("#") for s in statuses)
        assert {s["type"] for s in statuses} == {0, 1}
        assert all(s["pipeline_id"] == pipeline["id"] for s in statuses)
    one = pipelines[0]
    assert (
        client.get(f"{AMO_API}/leads/pipelines/{one['id']}", headers=broker).json()["id"]
        == one["id"]
    )
    statuses = client.get(f"{AMO_API}/leads/pipelines/{one['id']}/statuses", headers=broker).json()
    assert len(statuses["_embedded"]["statuses"]) == len(one["_embedded"]["statuses"])


def test_create_leads(client: httpx.Client, broker: dict[str, str]) -> None:
    pipelines = client.get(f"{AMO_API}/leads/pipelines", headers=broker).json()["_embedded"]
    pipeline = pipelines["pipelines"][1]
    status = pipeline["_embedded"]["statuses"][2]
    created = client.post(
        f"{AMO_API}/leads",
        headers=broker,
        json=[
            {
                "name": "Квартира на Тверской",
                "price": 25_000_000,
                "pipeline_id": pipeline["id"],
                "status_id": status["id"],
                "request_id": "mine-1",
                "_embedded": {"tags": [{"name": "Срочно"}]},
            },
            {"name": "Вторая"},
        ],
    )
    assert created.status_code == 200, created.text
    items = created.json()["_embedded"]["leads"]
    assert [i["request_id"] for i in items] == ["mine-1", "1"]
    lead = client.get(f"{AMO_API}/leads/{items[0]['id']}", headers=broker).json()
    assert lead["responsible_user_id"] == BROKER1_ID
    assert lead["pipeline_id"] == pipeline["id"]
    assert lead["status_id"] == status["id"]
    assert lead["price"] == 25_000_000
    assert [t["name"] for t in lead["_embedded"]["tags"]] == ["Срочно"]
    events = client.get(
        f"{AMO_API}/events",
        headers=broker,
        params={"filter[entity]": "lead", "filter[entity_id]": lead["id"]},
    )
    assert [e["type"] for e in events.json()["_embedded"]["events"]] == ["lead_added"]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ([{"name": "x", "price": "много"}], "price"),
        ([{"name": "x", "status_id": 1}], "status_id"),
        ([{"name": "x", "pipeline_id": 5}], "pipeline_id"),
        ([{"name": "x", "responsible_user_id": 12345}], "responsible_user_id"),
        (
            [{"name": "x", "custom_fields_values": [{"field_id": 1, "values": [{"value": 1}]}]}],
            "custom_fields_values.0.field_id",
        ),
        (["not an object"], ""),
    ],
)
def test_create_lead_validation_errors(
    client: httpx.Client, broker: dict[str, str], body: Any, path: str
) -> None:
    answer = client.post(f"{AMO_API}/leads", headers=broker, json=body)
    assert answer.status_code == 400
    payload = answer.json()
    assert payload["detail"] == "Request validation failed"
    entry = payload["validation-errors"][0]
    assert entry["request_id"] == "0"
    assert path in [e["path"] for e in entry["errors"]]


@pytest.mark.parametrize("raw", [b"{", b"", b"\xff", b"[" * 5000])
def test_malformed_lead_bodies(client: httpx.Client, broker: dict[str, str], raw: bytes) -> None:
    answer = client.post(
        f"{AMO_API}/leads", headers={**broker, "content-type": "application/json"}, content=raw
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith(PROBLEM)


def test_too_many_leads_at_once(client: httpx.Client, broker: dict[str, str]) -> None:
    answer = client.post(f"{AMO_API}/leads", headers=broker, json=[{"name": "x"}] * 251)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "Limit 250 per page"


def test_contacts_read_and_create(
    client: httpx.Client, broker: dict[str, str], admin: dict[str, str]
) -> None:
    contacts = client.get(f"{AMO_API}/contacts", headers=broker, params={"limit": 250}).json()
    items = contacts["_embedded"]["contacts"]
    assert {c["responsible_user_id"] for c in items} == {BROKER1_ID}
    codes = {v["field_code"] for v in items[0]["custom_fields_values"]}
    assert {"PHONE", "EMAIL"} <= codes
    created = client.post(
        f"{AMO_API}/contacts",
        headers=broker,
        json=[
            {
                "first_name": "Пётр",
                "last_name": "Ильин",
                "custom_fields_values": [
                    {
                        "field_code": "PHONE",
                        "values": [{"value": "+79990001122", "enum_code": "MOB"}],
                    },
                    {"field_code": "EMAIL", "values": [{"value": "petr@example.com"}]},
                ],
            }
        ],
    )
    assert created.status_code == 200, created.text
    contact_id = created.json()["_embedded"]["contacts"][0]["id"]
    contact = client.get(f"{AMO_API}/contacts/{contact_id}", headers=broker).json()
    assert contact["name"] == "Пётр Ильин"
    phone = next(v for v in contact["custom_fields_values"] if v["field_code"] == "PHONE")
    assert phone["values"][0] == {
        "value": "+79990001122",
        "enum_id": phone["values"][0]["enum_id"],
        "enum_code": "MOB",
    }
    bad = client.post(
        f"{AMO_API}/contacts",
        headers=broker,
        json=[
            {
                "name": "x",
                "custom_fields_values": [{"field_code": "PHONE", "values": [{"value": ""}]}],
            }
        ],
    )
    assert bad.status_code == 400
    lead = client.post(
        f"{AMO_API}/leads",
        headers=broker,
        json=[{"name": "С контактом", "_embedded": {"contacts": [{"id": contact_id}]}}],
    ).json()
    lead_id = lead["_embedded"]["leads"][0]["id"]
    with_leads = client.get(
        f"{AMO_API}/contacts/{contact_id}", headers=broker, params={"with": "leads"}
    ).json()
    assert lead_id in {ld["id"] for ld in with_leads["_embedded"]["leads"]}


def test_notes(client: httpx.Client, broker: dict[str, str]) -> None:
    lead_id = client.get(f"{AMO_API}/leads", headers=broker).json()["_embedded"]["leads"][0]["id"]
    created = client.post(
        f"{AMO_API}/leads/notes",
        headers=broker,
        json=[
            {"entity_id": lead_id, "note_type": "common", "params": {"text": "Позвонить завтра"}}
        ],
    )
    assert created.status_code == 200, created.text
    notes = client.get(f"{AMO_API}/leads/{lead_id}/notes", headers=broker).json()
    texts = [n["params"]["text"] for n in notes["_embedded"]["notes"]]
    assert "Позвонить завтра" in texts
    bad = client.post(
        f"{AMO_API}/leads/notes",
        headers=broker,
        json=[{"entity_id": lead_id, "note_type": "common", "params": {}}],
    )
    assert bad.status_code == 400
    hidden = client.post(
        f"{AMO_API}/leads/notes",
        headers=broker,
        json=[{"entity_id": 1, "note_type": "common", "params": {"text": "x"}}],
    )
    assert hidden.status_code == 400
    assert client.get(f"{AMO_API}/leads/1/notes", headers=broker).status_code == 204


def test_tasks(client: httpx.Client, broker: dict[str, str]) -> None:
    lead_id = client.get(f"{AMO_API}/leads", headers=broker).json()["_embedded"]["leads"][0]["id"]
    created = client.post(
        f"{AMO_API}/tasks",
        headers=broker,
        json=[
            {
                "text": "Показ",
                "complete_till": 1_900_000_000,
                "entity_type": "leads",
                "entity_id": lead_id,
                "task_type_id": 2,
            }
        ],
    )
    assert created.status_code == 200, created.text
    lead = client.get(f"{AMO_API}/leads/{lead_id}", headers=broker).json()
    assert lead["closest_task_at"] == 1_900_000_000
    tasks = client.get(f"{AMO_API}/tasks", headers=broker).json()["_embedded"]["tasks"]
    assert tasks[0]["text"] == "Показ"
    bad = client.post(f"{AMO_API}/tasks", headers=broker, json=[{"text": "", "complete_till": "x"}])
    assert bad.status_code == 400
    paths = {e["path"] for e in bad.json()["validation-errors"][0]["errors"]}
    assert {"text", "complete_till"} <= paths


def test_events_for_a_lead(
    client: httpx.Client, admin: dict[str, str], broker: dict[str, str]
) -> None:
    lead_id = client.get(f"{AMO_API}/leads", headers=broker).json()["_embedded"]["leads"][0]["id"]
    events = client.get(
        f"{AMO_API}/events",
        headers=broker,
        params={"filter[entity]": "lead", "filter[entity_id][]": lead_id},
    ).json()
    assert {e["entity_id"] for e in events["_embedded"]["events"]} == {lead_id}
    assert "lead_added" in {e["type"] for e in events["_embedded"]["events"]}
    foreign = client.get(
        f"{AMO_API}/leads", headers=admin, params={"filter[responsible_user_id]": ADMIN_ID}
    ).json()
    foreign_id = foreign["_embedded"]["leads"][0]["id"]
    assert (
        client.get(
            f"{AMO_API}/events", headers=broker, params={"filter[entity_id]": foreign_id}
        ).status_code
        == 204
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "bearer garbage",
        "Bearer garbage",
        "Basic Zm9vOmJhcg==",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
        "Bearer " + "x" * 5000,
    ],
)
def test_missing_or_garbage_tokens_get_401_problem(
    client: httpx.Client, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    answer = client.get(f"{AMO_API}/leads", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json() == {
        "title": "Unauthorized",
        "type": "https://httpstatus.es/401",
        "status": 401,
        "detail": "Неверный логин или пароль",
    }


def test_unknown_paths_methods_and_hosts(client: httpx.Client, broker: dict[str, str]) -> None:
    missing = client.get(f"{AMO_API}/no-such-thing", headers=broker)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM)
    wrong_method = client.delete(f"{AMO_API}/leads", headers=broker)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405
    unknown_account = client.get("https://nosuchaccount.amocrm.ru/api/v4/account")
    assert unknown_account.status_code == 404
    assert unknown_account.json()["detail"] == "Account not found"
    assert client.get("https://www.amocrm.ru/api/v4/account").status_code == 404


def test_responses_carry_a_request_id(client: httpx.Client, broker: dict[str, str]) -> None:
    answer = client.get(f"{AMO_API}/account", headers=broker)
    assert len(answer.headers["x-request-id"]) == 16


def test_loopback_host_is_the_default_account(
    emu: RunningEmulator, client: httpx.Client, broker: dict[str, str]
) -> None:
    with httpx.Client(base_url=emu.base_url) as plain:
        account = plain.get("/api/v4/account", headers=broker).json()
        assert account["id"] == ACCOUNT_ID
        page = plain.get("/api/v4/leads", headers=broker, params={"limit": 2}).json()
        assert page["_links"]["next"]["href"].startswith(emu.base_url + "/api/v4/leads?")


def test_users_self_read_switch_lets_a_broker_read_only_their_own_record(
    emu: RunningEmulator, client: httpx.Client, broker: dict[str, str]
) -> None:
    assert client.get(f"{AMO_API}/users/{BROKER1_ID}", headers=broker).status_code == 403
    emu.control.settings(users_self_read=True)
    own = client.get(f"{AMO_API}/users/{BROKER1_ID}", headers=broker)
    assert own.status_code == 200
    assert own.json()["name"]
    assert client.get(f"{AMO_API}/users/{ADMIN_ID}", headers=broker).status_code == 403


@pytest.mark.parametrize(
    "host", ["example.com", "not a host", "api-b.amocrm.ru:443", "WWW.AMOCRM.RU", "[::1]:8080"]
)
def test_any_host_header_gets_an_answer(emu: RunningEmulator, host: str) -> None:
    with httpx.Client(base_url=emu.base_url) as plain:
        answer = plain.get("/api/v4/account", headers={"Host": host})
    assert answer.status_code in (401, 404)
    assert answer.headers["content-type"].startswith(PROBLEM)


def test_odd_methods_and_huge_queries(client: httpx.Client, broker: dict[str, str]) -> None:
    assert client.request("PURGE", f"{AMO_API}/leads", headers=broker).status_code == 405
    head = client.head(f"{AMO_API}/account", headers=broker)
    assert head.status_code == 200
    huge = client.get(
        f"{AMO_API}/leads", headers=broker, params={f"filter[id][{i}]": i for i in range(2000)}
    )
    assert huge.status_code == 204
    deep = client.get(f"{AMO_API}/leads", headers=broker, params={"filter" + "[x]" * 500: "1"})
    assert deep.status_code in (200, 204)
