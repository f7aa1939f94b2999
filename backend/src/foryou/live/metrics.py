"""Live updates' Prometheus metrics (on the default registry, rendered by `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter

#: Webhook items by outcome: accepted, deduped, ignored (unknown entity or action).
WEBHOOK_ITEMS = Counter(
    "foryou_webhook_items", "amoCRM webhook items received, by outcome.", ["outcome"]
)
#: Webhook requests refused before any item was read, by reason.
WEBHOOK_REFUSED = Counter(
    "foryou_webhook_refused", "amoCRM webhook requests refused, by reason.", ["reason"]
)
#: Calls of GET /api/v4/events by the poll, and the changes it found.
EVENTS_POLL_CALLS = Counter("foryou_events_poll_calls", "Calls of amoCRM's events by the poll.")
EVENTS_POLL_CHANGES = Counter("foryou_events_poll_changes", "Changes found by the events poll.")
#: Webhook registrations sent to amoCRM (registered, or missing/disabled and sent again).
WEBHOOK_REGISTRATIONS = Counter(
    "foryou_webhook_registrations", "Webhook registrations sent to amoCRM, by reason.", ["reason"]
)
#: Events written to open streams, by type.
STREAM_EVENTS_SENT = Counter(
    "foryou_stream_events_sent", "Server-Sent Events written to brokers, by type.", ["type"]
)
