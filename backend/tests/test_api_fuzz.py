"""The whole OpenAPI fuzzed (Schemathesis): no request, however odd, gets a 5xx, and every
error comes in the envelope. A connected broker's token is sent, so CRM routes get past auth."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import schemathesis
from backend_support import Backend, amo_user, connect
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case

from scripts.harness_constants import API

# Per operation and mode; about twenty operations, two modes: well under a minute.
EXAMPLES = 30


def generated_cases(spec: dict[str, Any]) -> list[Case[Any]]:
    """Well-formed and malformed requests for every operation (generated, not yet sent)."""
    schema = schemathesis.openapi.from_dict(spec)
    cases: list[Case[Any]] = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES,
                database=None,
                deadline=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy(generation_mode=mode))
            def collect(case: Case[Any]) -> None:
                cases.append(case)

            # An operation without parameters or body has nothing to malform.
            with contextlib.suppress(Unsatisfiable):
                collect()
    return cases


def envelope_problem(response: Any) -> str | None:
    if response.status_code >= 500:
        return "server error"
    if "application/json" not in response.headers.get("content-type", ""):
        return None  # the browser routes answer HTML redirects
    body = response.json()
    if response.status_code >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if body.get("success") is not False or not isinstance(error, dict):
            return "error outside the envelope"
        if not all(isinstance(error.get(key), str) for key in ("code", "message", "requestId")):
            return "error envelope without code, message or requestId"
    elif not isinstance(body, dict) or body.get("success") is not True:
        return "success outside the envelope"
    return None


async def test_no_request_gets_a_server_error(
    make_backend: Any, emu: Any, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one database is enough for fuzzing the HTTP surface")
    # The test client reads whole bodies, and an event stream ends only with its lifetime.
    backend: Backend = await make_backend(live_stream_max_seconds=0.2)
    headers = await backend.new_broker()
    await connect(backend, emu, headers, amo_user(emu))
    spec = (await backend.client.get(f"{API}/openapi.json")).json()
    problems: list[str] = []
    # Disconnecting ends the broker's connection: it goes last, so the CRM routes before it
    # reach amoCRM.
    cases = sorted(generated_cases(spec), key=lambda case: case.path.endswith("/disconnect"))
    for case in cases:
        request = case.as_transport_kwargs(base_url="http://testserver")
        # The broker's token replaces whatever was generated, so auth lets the request in.
        request["headers"] = {**request.get("headers", {}), **headers}
        request.pop("cookies", None)
        if isinstance(request.get("data"), bytes | str):
            request["content"] = request.pop("data")  # a raw body, in httpx's words
        response = await backend.client.request(**request)
        # Probes (/healthz, /readyz) answer plain status bodies for load balancers.
        if response.status_code < 500 and not case.path.startswith(API):
            continue
        problem = envelope_problem(response)
        if problem is not None:
            problems.append(
                f"{problem}: {case.method} {case.formatted_path} {response.status_code} "
                f"{response.text[:200]}"
            )
    assert problems == []
