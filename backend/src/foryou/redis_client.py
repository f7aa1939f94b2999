"""The process's Redis client, built to outlive a Redis restart.

A restarted Redis leaves the pool holding sockets whose peer is gone; the first command on
each would fail. The client checks a socket that sat idle for a few seconds before using it
(`health_check_interval`), and a command that still meets a dead connection or a timeout
reconnects and is sent again, with a short backoff, so callers see Redis's outage only while
it lasts.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

HEALTH_CHECK_SECONDS = 5
RETRIES = 3


def connect_redis(url: str) -> Redis:
    return Redis.from_url(
        url,
        health_check_interval=HEALTH_CHECK_SECONDS,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.01), RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=1.0,
        socket_timeout=2.0,
    )
