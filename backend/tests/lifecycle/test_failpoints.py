"""Crash safety: a process killed between amoCRM's answer and our commit, a commit that fails,
a token endpoint that hangs. Afterwards nothing is corrupt, the status tells the truth, no
refresh loop starts, and where amoCRM keeps a grace period the connection recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from backend_support import Backend
from foryou.config import SettingsError, load_settings
from foryou.failpoints import KILL_EXIT_CODE
from foryou.worker import KeepAliveWorker
from lifecycle.lifecycle_support import (
    DAY,
    assert_not_corrupt,
    connect_brokers,
    events,
    refresh_grants,
    row_of,
    serve,
    set_columns,
    user_id_of,
)

from scripts.harness_constants import API


def test_failpoints_are_refused_on_a_real_deployment() -> None:
    with pytest.raises(SettingsError, match="FORYOU_TEST_FAILPOINTS"):
        load_settings(
            _env_file=None,
            public_url="https://api.foryou.example",
            jwt_secret="x" * 40,
            encryption_keys="k1:" + "A" * 43 + "=",
            test_failpoints="commit:fail",
        )
    with pytest.raises(SettingsError, match="unknown failpoint"):
        load_settings(_env_file=None, test_failpoints="somewhere:kill")


async def requests_over(
    backend: Backend, headers: dict[str, str], count: int, pause: float = 0.05
) -> list[int]:
    statuses = []
    for _ in range(count):
        response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
        statuses.append(response.status_code)
        await asyncio.sleep(pause)
    return statuses


def token_calls(emu: Any) -> list[dict[str, Any]]:
    """Every request to the token endpoint (one refused before it was read has no grant)."""
    calls: list[dict[str, Any]] = emu.control.requests(path="/oauth2/access_token")
    return calls


async def worker_of(backend: Backend) -> KeepAliveWorker:
    services = backend.services
    return KeepAliveWorker(
        db=services.db, tokens=services.tokens, clock=backend.clock, settings=services.settings
    )


@pytest.mark.slow
@pytest.mark.parametrize("reuse", ["strict", "grace"])
async def test_killed_between_answer_and_commit(
    make_backend: Any, emu: Any, database_url: str, reuse: str
) -> None:
    emu.control.settings(refresh_reuse=reuse)
    backend: Backend = await make_backend()
    (headers,) = await connect_brokers(backend, emu, 1)
    user_id = user_id_of(headers)
    before = await row_of(backend, user_id)
    await set_columns(backend, access_expires_at=datetime(2000, 1, 1, tzinfo=UTC))

    with serve(
        database_url, emu.base_url, test_failpoints="after_token_response_before_commit:kill"
    ) as doomed:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{doomed.base_url}{API}/crm/pipelines", headers=headers, timeout=30)
        # uvicorn's only worker died at the failpoint, taking the server down with it.
        with contextlib.suppress(subprocess.TimeoutExpired):
            doomed.process.wait(15)
        assert "failpoint after_token_response_before_commit" in doomed.log()
        assert doomed.process.returncode == KILL_EXIT_CODE
    assert len(refresh_grants(emu)) == 1  # amoCRM rotated; we never stored the answer

    crashed = await row_of(backend, user_id)
    assert crashed.version == before.version  # nothing half-written
    assert crashed.lease_owner is not None  # the dead process's lease
    assert crashed.refresh_started_at is not None
    assert crashed.refresh_finished_at is None
    assert_not_corrupt(backend, crashed)

    # Another process, once the dead lease has run out (our clock moves past it): the worker
    # resolves the unfinished refresh by itself, with one try of the stored refresh token.
    backend.clock.advance(60)
    counts = await (await worker_of(backend)).run_once()
    assert len(refresh_grants(emu)) == 2
    after = await row_of(backend, user_id)
    assert_not_corrupt(backend, after)
    status = await backend.status(headers)
    if reuse == "grace":
        assert counts.refreshed == 1
        assert status["state"] == "connected"
        assert after.version == before.version + 1
        assert ("refreshed", "recovered_unfinished") in await events(backend, user_id)
        assert set(await requests_over(backend, headers, 10)) == {200}
    else:
        assert counts.reauth == 1
        assert status["state"] == "reauth_required"
        assert status["reason"] == "rotation_lost"
        assert ("reauth_required", "rotation_lost") in await events(backend, user_id)
        answers = await requests_over(backend, headers, 10)
        assert set(answers) == {409}
        # A second worker run does not try again either.
        backend.clock.advance(3600)
        await (await worker_of(backend)).run_once()
    # No loop: nothing more reached amoCRM's token endpoint.
    assert len(refresh_grants(emu)) == 2


async def test_failing_commit_keeps_the_new_pair_and_writes_it_later(
    make_backend: Any, emu: Any
) -> None:
    backend: Backend = await make_backend(test_failpoints="commit:fail:3")
    (headers,) = await connect_brokers(backend, emu, 1)
    user_id = user_id_of(headers)
    before = await row_of(backend, user_id)
    backend.clock.advance(DAY + 60)  # expired

    # The pair amoCRM issued cannot be written; requests are served with it from memory.
    assert set(await requests_over(backend, headers, 5, pause=0.0)) == {200}
    assert len(refresh_grants(emu)) == 1
    unsaved = await row_of(backend, user_id)
    assert unsaved.version == before.version
    assert unsaved.lease_owner == backend.services.tokens.lease_owner  # still ours

    # The write is retried in the background (0.2 s, 0.4 s, 0.8 s …) and lands.
    for _ in range(100):
        written = await row_of(backend, user_id)
        if written.version != before.version:
            break
        await asyncio.sleep(0.1)
    assert written.version == before.version + 1
    assert written.lease_owner is None
    assert written.refresh_finished_at is not None
    assert_not_corrupt(backend, written)
    assert ("refreshed", None) in await events(backend, user_id)
    assert len(refresh_grants(emu)) == 1  # never refreshed again while it waited

    # What was written is amoCRM's current pair: the next refresh with it works.
    backend.clock.advance(DAY + 60)
    assert set(await requests_over(backend, headers, 3, pause=0.0)) == {200}
    grants = refresh_grants(emu)
    assert [grant["status"] for grant in grants] == [200, 200]
    assert (await backend.status(headers))["state"] == "connected"


@pytest.mark.parametrize(
    ("reuse", "rotated", "recovers"),
    [
        ("strict", True, False),  # amoCRM rotated and the answer never came: lost
        ("grace", True, True),  # the old token works once more: recovered
        ("strict", False, True),  # the request hung before amoCRM did anything
    ],
)
async def test_hanging_token_endpoint(
    make_backend: Any, emu: Any, reuse: str, rotated: bool, recovers: bool
) -> None:
    emu.control.settings(refresh_reuse=reuse)
    backend: Backend = await make_backend(amocrm_timeout_seconds=1.0)
    (headers,) = await connect_brokers(backend, emu, 1)
    user_id = user_id_of(headers)
    before = await row_of(backend, user_id)
    backend.clock.advance(DAY + 60)  # expired
    emu.control.clear_requests()
    # Rotated: amoCRM handles the refresh, then the answer hangs. Not rotated: the request
    # hangs before amoCRM does anything (and is then refused, long after we gave up).
    emu.control.fault(
        "/oauth2/access_token",
        method="POST",
        delay=3.0,
        after_processing=rotated,
        status=None if rotated else 503,
    )

    first = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert first.status_code == 504
    assert first.json()["error"]["code"] == "amo_upstream_timeout"
    assert ("refresh_failed", "outcome_unknown") in await events(backend, user_id)
    row = await row_of(backend, user_id)
    assert row.version == before.version
    assert row.lease_owner is None
    assert row.refresh_retry_at is not None
    assert (await backend.status(headers))["state"] == "connected"  # not known to be lost

    # During the backoff, requests answer at once with Retry-After and do not call amoCRM.
    held = await requests_over(backend, headers, 10, pause=0.02)
    assert set(held) == {503}
    await asyncio.sleep(3.0)  # the hung request finishes at the emulator (and is logged)
    assert len(token_calls(emu)) == 1
    backend.clock.advance(31)  # past the 30 s backoff
    after_backoff = await requests_over(backend, headers, 5, pause=0.0)
    assert len(token_calls(emu)) == 2
    row = await row_of(backend, user_id)
    assert_not_corrupt(backend, row)
    status = await backend.status(headers)
    if recovers:
        assert set(after_backoff) == {200}
        assert status["state"] == "connected"
        assert row.version == before.version + 1
        assert row.refresh_failures == 0
    else:
        assert set(after_backoff) == {409}
        assert status["state"] == "reauth_required"
        assert status["reason"] == "rotation_lost"
    # A following period of requests: no further refresh attempts.
    await requests_over(backend, headers, 5, pause=0.0)
    assert len(token_calls(emu)) == 2
