"""The token lifecycle's Prometheus metrics (refreshes and lease waits), on the default registry.

`/metrics` renders them with the upstream client's (:func:`foryou.upstream.metrics.render`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from foryou.upstream.metrics import WAIT_BUCKETS

__all__ = ["LEASE_WAIT_SECONDS", "TOKEN_REFRESHES"]

#: Token refreshes by outcome (for example: refreshed, adopted, reauth_required, failed).
TOKEN_REFRESHES = Counter(
    "foryou_token_refreshes",
    "Token refreshes of amoCRM connections, by outcome.",
    ["outcome"],
)

#: Time a caller waited for another process's refresh lease on a connection.
LEASE_WAIT_SECONDS = Histogram(
    "foryou_token_lease_wait_seconds",
    "Time spent waiting for another caller's refresh of the same connection.",
    buckets=WAIT_BUCKETS,
)
