from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from foryou.upstream import RetryPolicy, parse_retry_after


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 6, 10])
def test_full_jitter_stays_within_zero_and_the_capped_exponential(attempt: int) -> None:
    policy = RetryPolicy(rng=random.Random(attempt))
    ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
    delays = [policy.backoff(attempt) for _ in range(2000)]
    assert all(0.0 <= d <= ceiling for d in delays)
    # Full jitter covers the whole interval, not only its upper half.
    assert min(delays) < 0.05 * ceiling
    assert max(delays) > 0.95 * ceiling


def test_defaults_are_base_half_a_second_cap_eight_and_three_attempts() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 3
    assert [policy.backoff_ceiling(n) for n in (1, 2, 3, 4, 5, 6)] == [0.5, 1, 2, 4, 8, 8]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert RetryPolicy().backoff_ceiling(5000) == 8.0


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"backoff_base": -1}, {"timeout": 0}, {"max_queue_wait": -1}]
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("1.5") == 1.5


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 11, 27, 21, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=lambda: now) == 30.0
    assert parse_retry_after(earlier, now=lambda: now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-3", "nan", "inf"])
def test_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None
