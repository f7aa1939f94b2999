"""The cached-read helper: copies live and age by the injected clock, never by sleeping."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from foryou.clock import OffsetClock
from foryou.crm.cache import CachedRead, CachedReads, LocalCache

COUNT = CachedRead[int](
    field="count",
    ttl_seconds=15.0,
    min_refresh_seconds=2.0,
    to_json=lambda value: value,
    from_json=int,
)


class Upstream:
    """Stands in for amoCRM: every read answers how many reads there have been."""

    def __init__(self) -> None:
        self.reads = 0

    async def read(self) -> int:
        self.reads += 1
        return self.reads


def reads_on(clock: OffsetClock) -> tuple[CachedReads, LocalCache]:
    cache = LocalCache(clock)
    return CachedReads(cache, clock), cache


async def test_a_copy_is_served_until_the_clock_passes_its_lifetime() -> None:
    clock = OffsetClock()
    reads, cache = reads_on(clock)
    upstream = Upstream()
    assert await reads.read(COUNT, "k", upstream.read) == 1
    stored = await cache.get("k")
    assert stored is not None
    assert stored.keys() == {"at", "count"}
    assert stored["count"] == 1
    assert 0 <= clock.now().timestamp() - stored["at"] < 1
    clock.advance(14.5)
    assert await reads.read(COUNT, "k", upstream.read) == 1
    clock.advance(1)
    assert await reads.read(COUNT, "k", upstream.read) == 2
    assert upstream.reads == 2


async def test_refresh_reads_again_only_a_copy_old_enough() -> None:
    clock = OffsetClock()
    reads, _ = reads_on(clock)
    upstream = Upstream()
    await reads.read(COUNT, "k", upstream.read)
    clock.advance(1.5)
    assert await reads.read(COUNT, "k", upstream.read, refresh=True) == 1
    clock.advance(0.5)
    assert await reads.read(COUNT, "k", upstream.read, refresh=True) == 2
    # The refreshed copy is young again.
    assert await reads.read(COUNT, "k", upstream.read, refresh=True) == 2
    assert upstream.reads == 2


async def test_keys_are_cached_apart() -> None:
    reads, _ = reads_on(OffsetClock())
    upstream = Upstream()
    assert await reads.read(COUNT, "broker-a", upstream.read) == 1
    assert await reads.read(COUNT, "broker-b", upstream.read) == 2
    assert await reads.read(COUNT, "broker-a", upstream.read) == 1


async def test_single_flight_reads_share_one_upstream_call() -> None:
    reads, _ = reads_on(OffsetClock())
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def slow() -> int:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return 7

    shared = replace(COUNT, single_flight=True)
    first = asyncio.create_task(reads.read(shared, "k", slow))
    await started.wait()
    second = asyncio.create_task(reads.read(shared, "k", slow))
    await asyncio.sleep(0)
    release.set()
    assert list(await asyncio.gather(first, second)) == [7, 7]
    assert calls == 1


class Refused(Exception):
    """Stands in for amoCRM refusing the credentials of the caller that read."""


async def test_a_leaders_own_failure_sends_waiters_to_read_for_themselves() -> None:
    reads, _ = reads_on(OffsetClock())
    started = asyncio.Event()
    release = asyncio.Event()

    async def refused() -> int:
        started.set()
        await release.wait()
        raise Refused

    async def own() -> int:
        return 7

    shared = replace(COUNT, single_flight=True, leaders_own=(Refused,))
    leader = asyncio.create_task(reads.read(shared, "k", refused))
    await started.wait()
    waiter = asyncio.create_task(reads.read(shared, "k", own))
    await asyncio.sleep(0)
    release.set()
    assert await waiter == 7
    with pytest.raises(Refused):
        await leader
