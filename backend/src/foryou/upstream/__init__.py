"""Calls to amoCRM under a per-account budget, a circuit and a careful retry policy.

Framework-free: failures are the vendor errors of `foryou.integrations.amocrm.errors`, which
`to_app_error` there maps onto the API's envelope; services build one
`UpstreamClient` at start-up (Redis-backed limiter and circuit when Redis is configured,
in-process ones otherwise) and route every amoCRM call through it.
"""

from .circuit import (
    DEFAULT_BLOCK_SECONDS,
    Circuit,
    CircuitState,
    InProcessCircuit,
    RedisCircuit,
)
from .client import UpstreamClient
from .errors import LimiterUnavailable, RateLimitWaitExceeded
from .metrics import UpstreamMetrics
from .ratelimit import (
    DEFAULT_BURST,
    DEFAULT_RATE,
    InProcessRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from .retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_BLOCK_SECONDS",
    "DEFAULT_BURST",
    "DEFAULT_RATE",
    "IDEMPOTENT_METHODS",
    "Circuit",
    "CircuitState",
    "InProcessCircuit",
    "InProcessRateLimiter",
    "LimiterUnavailable",
    "RateLimitWaitExceeded",
    "RateLimiter",
    "RedisCircuit",
    "RedisRateLimiter",
    "RetryPolicy",
    "UpstreamClient",
    "UpstreamMetrics",
    "parse_retry_after",
]
