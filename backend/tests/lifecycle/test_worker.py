"""The keep-alive worker: refreshes near expiry and weekly, shares the work between workers
without ever refreshing one connection twice, keeps an 80-day idle connection alive, purges
expired connect attempts, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from backend_support import Backend, amo_user, connect
from foryou.clock import OffsetClock
from foryou.config import Settings
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.integrations.amocrm.models import AmoCrmOAuthFlow
from foryou.integrations.amocrm.tokens import TokenProvider
from foryou.worker import KeepAliveWorker
from lifecycle.lifecycle_support import (
    DAY,
    assert_not_corrupt,
    connect_brokers,
    events,
    refresh_grants,
    row_of,
    rows,
    serve,
    set_columns,
    start_worker,
    user_id_of,
)
from sqlalchemy import func, select

from scripts.harness_constants import API


def worker_for(backend: Backend, clock: OffsetClock | None = None) -> KeepAliveWorker:
    services = backend.services
    return KeepAliveWorker(
        db=services.db,
        tokens=services.tokens,
        clock=clock or backend.clock,
        settings=services.settings,
    )


async def test_connections_near_expiry_are_refreshed(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    headers = await connect_brokers(backend, emu, 3)
    before = {row.id: row.version for row in await rows(backend)}
    worker = worker_for(backend)
    # Fresh tokens are left alone.
    counts = await worker.run_once()
    assert (counts.due, counts.refreshed) == (0, 0)
    assert refresh_grants(emu) == []
    # 20 minutes before expiry (inside the worker's 30 minutes ahead, outside the request
    # path's 15-minute margin): the worker refreshes, the broker never waits for it.
    backend.clock.advance(DAY - 1200)
    counts = await worker.run_once()
    assert (counts.due, counts.refreshed, counts.failed, counts.reauth) == (3, 3, 0, 0)
    assert len(refresh_grants(emu)) == 3
    for row in await rows(backend):
        assert row.version == before[row.id] + 1
        assert row.access_expires_at is not None
        assert row.access_expires_at > backend.clock.now() + timedelta(hours=23)
        assert_not_corrupt(backend, row)
    assert ("refreshed", None) in await events(backend, user_id_of(headers[0]))
    # Nothing is due right after.
    assert (await worker.run_once()).due == 0
    assert len(refresh_grants(emu)) == 3


async def test_weekly_keepalive_refreshes_an_unused_connection(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    (headers,) = await connect_brokers(backend, emu, 1)
    # Its access token is still good for hours, but nothing refreshed it for 8 days.
    week_ago = backend.clock.now() - timedelta(days=8)
    await set_columns(backend, connected_at=week_ago, last_refreshed_at=week_ago)
    counts = await worker_for(backend).run_once()
    assert (counts.due, counts.refreshed) == (1, 1)
    row = await row_of(backend, user_id_of(headers))
    assert row.last_refreshed_at is not None
    assert row.last_refreshed_at > backend.clock.now() - timedelta(minutes=1)


async def test_a_connection_idle_for_80_days_is_kept_alive(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    email, _ = await backend.create_user()
    await connect(backend, emu, await backend.login(email), amo_user(emu))
    # 80 days pass for amoCRM and for us; the refresh token dies at 90.
    emu.control.advance_clock(80 * DAY)
    backend.clock.advance(80 * DAY)
    counts = await worker_for(backend).run_once()
    assert counts.refreshed == 1
    grants = refresh_grants(emu)
    assert [grant["status"] for grant in grants] == [200]
    # 20 more days: without the worker the old refresh token would have expired by now.
    emu.control.advance_clock(20 * DAY)
    backend.clock.advance(20 * DAY)
    headers = await backend.login(email)  # the app's own token is short-lived
    response = await backend.client.get(f"{API}/crm/pipelines", headers=headers)
    assert response.status_code == 200, response.text
    assert (await backend.status(headers))["state"] == "connected"


async def test_two_workers_never_refresh_the_same_connection(
    make_backend: Any, emu: Any, database_url: str
) -> None:
    backend: Backend = await make_backend()
    brokers = 10
    headers = await connect_brokers(backend, emu, brokers)  # 10 distinct amoCRM users
    await set_columns(backend, access_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    emu.control.clear_requests()
    settings: Settings = backend.services.settings
    cipher: TokenCipher = backend.services.connections._cipher
    workers = []
    databases = []
    for name in ("worker-a", "worker-b"):
        db = Database(database_url)  # a pool of its own, like another process
        databases.append(db)
        tokens = TokenProvider(
            db=db,
            cipher=cipher,
            client=backend.services.amocrm,
            clock=backend.clock,
            settings=settings,
            lease_owner=name,
        )
        worker = KeepAliveWorker(db=db, tokens=tokens, clock=backend.clock, settings=settings)
        workers.append(worker)
    try:
        results = await asyncio.gather(*(worker.run_once() for worker in workers))
    finally:
        for db in databases:
            await db.dispose()
    assert sum(result.refreshed for result in results) == brokers
    assert sum(result.failed + result.reauth for result in results) == 0
    grants = refresh_grants(emu)
    assert len(grants) == brokers
    assert len({grant["user_id"] for grant in grants}) == brokers  # one per connection
    for broker in headers:
        assert (await backend.status(broker))["state"] == "connected"


@pytest.mark.slow
async def test_two_worker_processes_share_the_work(
    make_backend: Any, emu: Any, database_url: str, tmp_path: Path
) -> None:
    backend: Backend = await make_backend()
    brokers = 10
    await connect_brokers(backend, emu, brokers)
    await set_columns(backend, access_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    # Each refresh takes 0.3 s at amoCRM, so both processes are busy at the same time.
    emu.control.fault("/oauth2/access_token", method="POST", delay=0.3, count=brokers)
    emu.control.clear_requests()
    processes = [start_worker(database_url, emu.base_url, tmp_path, "--once") for _ in range(2)]
    for process, log_path in processes:
        assert process.wait(60) == 0, log_path.read_text()
    grants = refresh_grants(emu)
    assert len(grants) == brokers
    assert len({grant["user_id"] for grant in grants}) == brokers
    refreshed = 0
    for _, log_path in processes:
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if "{" in line]
        (run,) = [line for line in lines if line.get("event") == "worker_run"]
        refreshed += run["refreshed"]
    assert refreshed == brokers
    for row in await rows(backend):
        assert row.lease_owner is None
        assert_not_corrupt(backend, row)


async def test_expired_connect_attempts_are_purged(make_backend: Any, emu: Any) -> None:
    backend: Backend = await make_backend()
    headers = await backend.new_broker()
    await backend.authorize(headers)
    await backend.authorize(headers)

    async def flows() -> int:
        async with backend.services.db.transaction() as session:
            return int(
                (
                    await session.execute(select(func.count()).select_from(AmoCrmOAuthFlow))
                ).scalar_one()
            )

    assert (await worker_for(backend).run_once()).purged == 0
    assert await flows() == 2
    backend.clock.advance(2 * 3600)  # 10-minute flows, kept an hour past expiry
    assert (await worker_for(backend).run_once()).purged == 2
    assert await flows() == 0


@pytest.mark.slow
async def test_sigterm_stops_the_worker_after_the_refresh_in_hand(
    make_backend: Any, emu: Any, database_url: str, tmp_path: Path
) -> None:
    backend: Backend = await make_backend()
    (headers,) = await connect_brokers(backend, emu, 1)
    before = await row_of(backend, user_id_of(headers))
    await set_columns(backend, access_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    # amoCRM takes 2 s to answer: the signal arrives while the refresh is in flight.
    emu.control.fault("/oauth2/access_token", method="POST", delay=2.0)
    process, log_path = start_worker(
        database_url,
        emu.base_url,
        tmp_path,
        worker_interval_seconds=3600,
        amocrm_timeout_seconds=10,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = await row_of(backend, user_id_of(headers))
            if row.lease_owner is not None:
                break
            assert process.poll() is None, log_path.read_text()
            await asyncio.sleep(0.05)
        assert row.lease_owner is not None, log_path.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0, log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    output = log_path.read_text()
    assert '"worker_stopped"' in output
    (run,) = [json.loads(line) for line in output.splitlines() if '"worker_run"' in line]
    assert (run["refreshed"], run["failed"]) == (1, 0)
    after = await row_of(backend, user_id_of(headers))
    # The refresh in hand was finished and committed, not cut in half.
    assert after.version == before.version + 1
    assert after.lease_owner is None
    assert_not_corrupt(backend, after)
    assert len(refresh_grants(emu)) == 1


@pytest.mark.slow
async def test_the_api_process_runs_the_worker_when_embedded(
    make_backend: Any, emu: Any, database_url: str
) -> None:
    backend: Backend = await make_backend()
    (headers,) = await connect_brokers(backend, emu, 1)
    before = await row_of(backend, user_id_of(headers))
    with serve(
        database_url, emu.base_url, embedded_worker=True, worker_interval_seconds=0.5
    ) as server:
        await set_columns(backend, access_expires_at=datetime(2000, 1, 1, tzinfo=UTC))
        # No request reaches the API: the worker inside it refreshes on its own.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = await row_of(backend, user_id_of(headers))
            if row.version != before.version:
                break
            await asyncio.sleep(0.1)
        assert row.version == before.version + 1, server.log()[-2000:]
    assert '"worker_stopped"' in server.log()  # stopped with the server, cleanly
    assert len(refresh_grants(emu)) == 1
