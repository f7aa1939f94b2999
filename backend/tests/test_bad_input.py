"""Bad input on every endpoint gets a 4xx with the envelope, never a 500."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from backend_support import Backend
from foryou.auth.models import Role

from scripts.harness_constants import AMO, API

HUGE = "x" * (70 * 1024)
BAD_BODIES: list[Any] = [
    {"unexpected": "field"},
    {"code": 1, "state": ["x"], "referer": {"a": 1}, "platform": 7},
    {"email": None, "password": 3},
    {"client": "desktop"},
    {"code": "a" * 5000, "state": "s" * 43, "referer": "reforyou.amocrm.ru"},
    {"code": "bad code!", "state": "short", "referer": "evil.com", "platform": "9"},
    [],
    "just a string",
    {"nested": {"deep": [[[[[]]]]]}},
]
RAW_BODIES = [b"{not json", b"\xff\xfe\x00", HUGE.encode(), b""]
QUERY_NOISE = [
    {"page": "zero", "limit": "9999", "pipelineId": "-1", "stageId": "x", "mine": "perhaps"},
    {"query": HUGE[:5000]},
    {"flow": "not-a-uuid"},
    {"flow": "0" * 5000},
    {"state": "s" * 200, "code": "c" * 5000, "referer": "r" * 400, "platform": "p" * 20},
    {"account_id": "x" * 50, "client_uuid": "y", "signature": "z" * 500},
    {"account_id": "-1", "client_uuid": "", "signature": ""},
]
ROUTES = [
    ("POST", f"{API}/auth/login"),
    ("GET", f"{API}/auth/me"),
    ("GET", f"{AMO}/status"),
    ("POST", f"{AMO}/authorize"),
    ("GET", f"{AMO}/oauth/start"),
    ("GET", f"{AMO}/oauth/callback"),
    ("POST", f"{AMO}/exchange-code"),
    ("POST", f"{AMO}/complete"),
    ("POST", f"{AMO}/disconnect"),
    ("GET", f"{AMO}/hooks/disabled"),
    ("GET", f"{API}/crm/pipelines"),
    ("GET", f"{API}/crm/leads"),
    ("POST", f"{API}/crm/leads"),
    ("GET", f"{API}/crm/leads/{{lead_id}}"),
    ("PATCH", f"{API}/crm/leads/{{lead_id}}"),
    ("POST", f"{API}/crm/leads/{{lead_id}}/notes"),
    ("GET", f"{API}/crm/tasks"),
    ("POST", f"{API}/crm/tasks"),
    ("POST", f"{API}/crm/tasks/{{task_id}}/complete"),
    ("GET", f"{API}/events/stream"),
    ("POST", f"{API}/events/stream-ticket"),
    ("POST", f"{AMO}/webhooks/{{key}}"),
    ("GET", f"{API}/admin/brokers"),
    ("GET", f"{API}/admin/brokers/{{user_id}}/events"),
    ("POST", f"{API}/admin/brokers/{{user_id}}/unlink"),
    ("POST", f"{API}/admin/brokers/{{user_id}}/request-reconnect"),
    ("GET", f"{API}/admin/amo-crm/agency-connection"),
    ("POST", f"{API}/admin/amo-crm/agency-connection"),
    ("DELETE", f"{API}/admin/amo-crm/agency-connection"),
    ("POST", f"{API}/admin/amo-crm/agency-connection/use-my-connection"),
    ("GET", f"{API}/admin/users"),
    ("POST", f"{API}/admin/users"),
    ("POST", f"{API}/admin/users/{{user_id}}/block"),
    ("POST", f"{API}/admin/users/{{user_id}}/unblock"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
]


BROWSER_ROUTE_PREFIXES = (f"('GET', '{AMO}/oauth/start", f"('GET', '{AMO}/oauth/callback")


def assert_envelope_or_redirect(response: Any, context: object) -> None:
    assert response.status_code < 500, (context, response.status_code, response.text[:300])
    if response.status_code in (302,):
        return
    browser = str(context).startswith(BROWSER_ROUTE_PREFIXES)
    # A person's browser gets a page, not JSON (docs/api.md, "Pages"); a body too large for
    # any route is refused before routing, in the envelope.
    if response.status_code >= 400 and browser and response.status_code != 413:
        assert response.headers["content-type"].startswith("text/html"), context
        assert "Traceback" not in response.text
        assert HUGE[:100] not in response.text
        return
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False, context
        assert isinstance(body["error"]["code"], str)
        assert body["error"]["requestId"]
        assert "Traceback" not in response.text
        assert HUGE[:100] not in response.text


def test_every_route_is_covered(backend: Backend) -> None:
    documented = {
        (method.upper(), path)
        for path, item in backend.app.openapi()["paths"].items()
        for method in item
    }
    assert documented <= set(ROUTES), documented - set(ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_bad_input_gets_a_4xx_envelope(make_backend: Any, method: str, path: str) -> None:
    # The test client reads whole bodies, and an event stream ends only with its lifetime.
    backend: Backend = await make_backend(live_stream_max_seconds=0.05)
    headers = await backend.new_broker(role=Role.ADMIN)
    attempts: list[dict[str, Any]] = []
    for body in BAD_BODIES:
        attempts.append({"json": body})
    for raw in RAW_BODIES:
        attempts.append({"content": raw, "headers": {"Content-Type": "application/json"}})
    for query in QUERY_NOISE:
        attempts.append({"params": query})
    bad_ids = ("x", "0", "9" * 30, "1%2F..%2F", "00000000-0000-0000-0000-000000000000")
    targets = [re.sub(r"\{[a-z_]+\}", bad, path) for bad in bad_ids]
    for target in dict.fromkeys(targets):
        for attempt in attempts:
            options = dict(attempt)
            extra_headers = options.pop("headers", {})
            response = await backend.client.request(
                method, target, headers={**headers, **extra_headers}, **options
            )
            assert_envelope_or_redirect(response, (method, target, str(options)[:80]))


async def test_validation_errors_name_fields_without_echoing_values(backend: Backend) -> None:
    headers = await backend.new_broker()
    response = await backend.client.post(
        f"{AMO}/exchange-code",
        headers=headers,
        json={"code": "def50200secretvalue!", "state": "short", "extra": 1},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    fields = {detail["field"] for detail in body["error"]["details"]}
    assert {"code", "state", "referer", "extra"} <= fields
    assert "def50200secretvalue" not in response.text


async def test_oversized_body_is_413(backend: Backend) -> None:
    response = await backend.client.post(
        f"{API}/auth/login",
        content=b'{"email": "' + HUGE.encode() + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_unknown_route_and_method(backend: Backend) -> None:
    missing = await backend.client.get(f"{API}/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = await backend.client.delete(f"{AMO}/status")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


async def test_security_headers_on_every_response(backend: Backend) -> None:
    for path in (f"{API}/auth/me", "/healthz", f"{API}/openapi.json"):
        response = await backend.client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-request-id"]


async def test_cors_allows_only_configured_origins(make_backend: Any) -> None:
    backend = await make_backend(cors_origins=["http://127.0.0.1:8081"])
    preflight = {"Access-Control-Request-Method": "GET"}
    allowed = await backend.client.options(
        f"{AMO}/status", headers={"Origin": "http://127.0.0.1:8081", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:8081"
    refused = await backend.client.options(
        f"{AMO}/status", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in refused.headers


async def test_health_readiness_and_openapi(backend: Backend) -> None:
    assert (await backend.client.get("/healthz")).json() == {"status": "ok"}
    assert (await backend.client.get("/readyz")).json() == {"status": "ready"}
    document = (await backend.client.get(f"{API}/openapi.json")).json()
    assert f"{AMO}/oauth/callback" in document["paths"]
    assert (await backend.client.get("/metrics")).status_code == 200


async def test_unexpected_errors_are_a_bare_500_envelope(backend: Backend) -> None:
    async def explode() -> None:
        raise RuntimeError("SELECT secret FROM somewhere")

    backend.app.add_api_route("/api/v1/_explode", explode)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=backend.app, raise_app_exceptions=False),
        base_url="http://testserver",
    )
    async with client:
        response = await client.get("/api/v1/_explode")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "SELECT" not in response.text
    assert "Traceback" not in response.text
