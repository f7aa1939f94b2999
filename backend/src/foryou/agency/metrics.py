"""Metrics of the agency connection: how long its long-lived token has left, what befell it."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

AGENCY_TOKEN_EXPIRES_IN = Gauge(
    "foryou_agency_token_expires_in_seconds",
    "Seconds until the agency's long-lived amoCRM token expires (as of the last worker run).",
    ["account_id"],
    multiprocess_mode="min",
)
AGENCY_TOKEN_EVENTS = Counter(
    "foryou_agency_token_events_total",
    "Agency token events: expiring (the warning), expired, revoked.",
    ["event"],
)
