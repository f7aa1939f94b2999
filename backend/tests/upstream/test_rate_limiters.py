from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest
from foryou.upstream import (
    InProcessRateLimiter,
    RateLimiter,
    RateLimitWaitExceeded,
    RedisRateLimiter,
)
from redis.asyncio import Redis

from scripts.harness_constants import REDIS_URL

LimiterFactory = Callable[[float, int], RateLimiter]


@pytest.fixture(params=["in_process", "redis"])
def make_limiter(request: pytest.FixtureRequest, redis: Redis, prefix: str) -> LimiterFactory:
    if request.param == "in_process":
        return lambda rate, burst: InProcessRateLimiter(rate, burst)
    return lambda rate, burst: RedisRateLimiter(redis, rate, burst, prefix)


async def test_callers_get_distinct_slots_and_go_in_booking_order(
    make_limiter: LimiterFactory,
) -> None:
    limiter = make_limiter(20.0, 1)
    finished: list[int] = []
    waits: dict[int, float] = {}

    async def caller(index: int) -> None:
        waits[index] = await limiter.acquire("acct", max_wait=5)
        finished.append(index)

    await asyncio.gather(*(caller(index) for index in range(10)))
    booking_order = sorted(waits, key=waits.__getitem__)
    assert finished == booking_order
    ordered = sorted(waits.values())
    assert ordered[0] == 0
    # Each slot is one interval (50 ms) after the previous one; the wait is measured from the
    # moment of booking, which only moves forward, so consecutive waits differ by at most that.
    for earlier, later in itertools.pairwise(ordered):
        assert 0 < later - earlier <= 0.05 + 1e-6
    assert ordered[-1] <= 9 * 0.05 + 1e-6


async def test_in_process_waiting_is_first_come_first_served() -> None:
    limiter = InProcessRateLimiter(20.0, 1)
    finished: list[int] = []

    async def caller(index: int) -> None:
        await limiter.acquire("acct", max_wait=5)
        finished.append(index)

    tasks = []
    for index in range(10):
        tasks.append(asyncio.create_task(caller(index)))
        await asyncio.sleep(0)  # the task books its slot before the next one starts
    await asyncio.gather(*tasks)
    assert finished == list(range(10))


async def test_a_burst_goes_at_once_then_the_rate_applies(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(10.0, 3)
    waits = await asyncio.gather(*(limiter.acquire("acct", max_wait=5) for _ in range(5)))
    assert sorted(waits)[:3] == [0, 0, 0]
    assert all(w > 0 for w in sorted(waits)[3:])


async def test_a_slot_too_far_away_is_refused_without_booking(
    make_limiter: LimiterFactory,
) -> None:
    limiter = make_limiter(1.0, 1)
    assert await limiter.acquire("acct", max_wait=0) == 0
    with pytest.raises(RateLimitWaitExceeded) as refused:
        await limiter.acquire("acct", max_wait=0.2)
    assert 0.2 < refused.value.retry_after <= 1.0
    with pytest.raises(RateLimitWaitExceeded) as again:
        await limiter.acquire("acct", max_wait=0.2)
    # Nothing was booked by the refusal: the next slot is still the same one.
    assert again.value.retry_after <= refused.value.retry_after


async def test_keys_have_separate_budgets(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(1.0, 1)
    assert await limiter.acquire("account-a", max_wait=0) == 0
    assert await limiter.acquire("account-b", max_wait=0) == 0


async def test_pause_holds_new_slots_back(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(100.0, 1)
    await limiter.pause("acct", 2.0)
    with pytest.raises(RateLimitWaitExceeded) as refused:
        await limiter.acquire("acct", max_wait=1.0)
    assert 1.9 < refused.value.retry_after <= 2.0


async def test_booked_ahead_peeks_without_booking(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter(2.0, 1)
    assert await limiter.booked_ahead("acct") == 0
    assert await limiter.acquire("acct", max_wait=0) == 0
    # The next slot is half a second away, for whoever comes next; asking books nothing.
    ahead = await limiter.booked_ahead("acct")
    assert 0.3 < ahead <= 0.5
    assert 0.3 < await limiter.booked_ahead("acct") <= 0.5
    assert await limiter.booked_ahead("other") == 0
    await limiter.pause("other", 3)
    assert 2.5 < await limiter.booked_ahead("other") <= 3.0


async def test_redis_budget_is_shared_by_separate_clients(prefix: str) -> None:
    first: Redis = Redis.from_url(REDIS_URL)
    second: Redis = Redis.from_url(REDIS_URL)
    try:
        a = RedisRateLimiter(first, 1.0, 1, prefix)
        b = RedisRateLimiter(second, 1.0, 1, prefix)
        assert await a.acquire("acct", max_wait=0) == 0
        with pytest.raises(RateLimitWaitExceeded):
            await b.acquire("acct", max_wait=0.5)
    finally:
        await first.aclose()
        await second.aclose()


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (float("nan"), 1), (5.0, 0)])
def test_nonsense_rates_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="must"):
        InProcessRateLimiter(rate, burst)
