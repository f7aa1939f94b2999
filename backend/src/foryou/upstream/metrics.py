"""The upstream client's Prometheus metrics, and the `/metrics` rendering of every metric.

Labels never name an account, a user or a token: an account's subdomain and numeric ids in
paths are left out (`/api/v4/leads/123` is counted as `/api/v4/leads/{id}`), so the number of
series stays bounded whatever the number of brokers.

`/metrics` exposes :data:`REGISTRY` with :func:`render`. When the API runs in several worker
processes with ``PROMETHEUS_MULTIPROC_DIR`` set, :func:`render` merges the values of all of
them.
"""

from __future__ import annotations

import os
import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

__all__ = [
    "CONTENT_TYPE_LATEST",
    "METRICS",
    "REGISTRY",
    "WAIT_BUCKETS",
    "UpstreamMetrics",
    "path_template",
    "render",
]

#: Buckets of every "time spent waiting" histogram, upstream budget and token leases alike.
WAIT_BUCKETS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
_NUMBER = re.compile(r"^\d+$")
_OPAQUE = re.compile(r"^[0-9a-fA-F-]{16,}$")


def path_template(path: str) -> str:
    """Turn a request path into an account-independent label value."""
    segments = []
    for segment in path.split("/"):
        if _NUMBER.match(segment) or _OPAQUE.match(segment):
            segments.append("{id}")
        else:
            segments.append(segment)
    return "/".join(segments) or "/"


class UpstreamMetrics:
    """The metrics `UpstreamClient` records.

    The service uses :data:`METRICS` (on the default registry); tests and benchmarks can give
    a client their own instance on a fresh `CollectorRegistry`.
    """

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.requests = Counter(
            "foryou_upstream_requests",
            "Requests sent to amoCRM, by method, path template and status "
            "(or the transport failure: timeout, connect_error, dropped).",
            ["method", "path", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "foryou_upstream_request_duration_seconds",
            "Time from sending a request to amoCRM to its answer.",
            ["method", "path"],
            registry=registry,
        )
        self.retries = Counter(
            "foryou_upstream_retries",
            "Requests to amoCRM sent again, by the reason for the retry.",
            ["reason"],
            registry=registry,
        )
        self.limiter_wait = Histogram(
            "foryou_upstream_limiter_wait_seconds",
            "Time spent waiting for a slot of an account's request budget.",
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.limiter_rejections = Counter(
            "foryou_upstream_limiter_rejections",
            "Calls refused because the account's next free slot was too far away.",
            registry=registry,
        )
        self.circuit_opens = Counter(
            "foryou_upstream_circuit_opens",
            "Times an account's circuit opened: blocked (403 block page) or paused (429).",
            ["reason"],
            registry=registry,
        )
        self.circuit_rejections = Counter(
            "foryou_upstream_circuit_rejections",
            "Calls not sent because the account's circuit was open.",
            ["reason"],
            registry=registry,
        )


#: The upstream metrics of the service.
METRICS = UpstreamMetrics()


def render() -> tuple[bytes, str]:
    """Return the body and content type of a `/metrics` answer."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
