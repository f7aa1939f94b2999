"""The minimal CRM read path: pipelines and the broker's leads, with the broker's own token."""

from __future__ import annotations

from typing import Any

from backend_support import Backend, amo_user, connect
from foryou.auth.models import Role

from scripts.harness_constants import API


async def connected(backend: Backend, emu: Any, role: str = "broker") -> dict[str, str]:
    headers = await backend.new_broker()
    # Lets the connection learn the broker's name (amoCRM keeps users admin-only by default).
    emu.control.settings(users_self_read=True)
    await connect(backend, emu, headers, amo_user(emu, role))
    return headers


async def test_pipelines_with_typed_stages(backend: Backend, emu: Any) -> None:
    headers = await connected(backend, emu)
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["data"]["items"]
    assert items
    assert sum(1 for pipeline in items if pipeline["isMain"]) == 1
    for pipeline in items:
        assert set(pipeline) == {"id", "name", "sort", "isMain", "stages"}
        types = {stage["type"] for stage in pipeline["stages"]}
        assert {"won", "lost"} <= types
        assert {"open"} <= types
        for stage in pipeline["stages"]:
            assert set(stage) == {"id", "name", "color", "sort", "type"}


async def test_leads_are_mine_by_default(backend: Backend, emu: Any) -> None:
    headers = await connected(backend, emu)
    me = amo_user(emu)
    response = await backend.client.get(f"{API}/crm/leads", headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["page"] == 1
    assert isinstance(data["hasMore"], bool)
    assert data["items"], "the seed gives every broker some leads"
    for lead in data["items"]:
        assert lead["responsibleUserId"] == me["id"]
        assert lead["responsibleUserName"] == me["name"]
        assert set(lead) == {
            "id",
            "name",
            "price",
            "stageId",
            "pipelineId",
            "stageName",
            "stageColor",
            "responsibleUserId",
            "responsibleUserName",
            "contactName",
            "contactPhone",
            "updatedAt",
        }
    assert any(lead["contactName"] for lead in data["items"])


async def test_leads_paging_and_filters(backend: Backend, emu: Any) -> None:
    headers = await connected(backend, emu, role="admin")
    first = await backend.client.get(
        f"{API}/crm/leads", headers=headers, params={"mine": "false", "limit": 2}
    )
    data = first.json()["data"]
    assert len(data["items"]) == 2
    assert data["hasMore"] is True
    second = await backend.client.get(
        f"{API}/crm/leads", headers=headers, params={"mine": "false", "limit": 2, "page": 2}
    )
    assert second.json()["data"]["page"] == 2
    assert {lead["id"] for lead in second.json()["data"]["items"]}.isdisjoint(
        {lead["id"] for lead in data["items"]}
    )
    lead = data["items"][0]
    filtered = await backend.client.get(
        f"{API}/crm/leads",
        headers=headers,
        params={"mine": "false", "pipelineId": lead["pipelineId"], "stageId": lead["stageId"]},
    )
    items = filtered.json()["data"]["items"]
    assert items
    assert all(item["stageId"] == lead["stageId"] for item in items)


async def test_crm_without_a_connection(backend: Backend) -> None:
    headers = await backend.new_broker()
    for path in ("/crm/pipelines", "/crm/leads"):
        response = await backend.client.get(f"{API}{path}", headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "amo_not_connected"


async def test_crm_is_for_brokers_and_admins_only(backend: Backend) -> None:
    for role in (Role.CLIENT, Role.INVESTOR):
        headers = await backend.new_broker(role=role)
        response = await backend.client.get(f"{API}/crm/leads", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


async def test_crm_upstream_rate_limit_maps_to_503(backend: Backend, emu: Any) -> None:
    headers = await connected(backend, emu)
    emu.control.fault("/api/v4/leads/pipelines", status=429, count=5)
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "amo_upstream_unavailable"
    assert int(response.headers["retry-after"]) >= 1


async def test_pipelines_carry_the_accounts_currency_at_no_cost_per_screen(
    backend: Backend, connected: Any, amo_direct: Any, api_log: Any, emu: Any
) -> None:
    headers = await connected("broker", 0)
    account = amo_direct("broker", 0).get("/api/v4/account")
    assert account is not None
    emu.control.clear_requests()
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["currency"] == account["currency"] == "RUB"
    assert data["currencySymbol"] == account["currency_symbol"]
    assert len(api_log(path="/api/v4/account")) == 1
    # Every other broker of the account, and every later screen, reads the kept copy.
    other = await connected("broker", 1)
    emu.control.clear_requests()
    for broker in (headers, other):
        again = await backend.client.get(f"{API}/crm/pipelines", headers=broker)
        assert again.json()["data"]["currency"] == "RUB"
    assert api_log() == []
