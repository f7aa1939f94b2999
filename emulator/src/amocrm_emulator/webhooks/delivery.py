"""Delivery of account webhooks: in the background, with amoCRM's timeout, retries and disabling.

A change only queues its hooks; a background task on the server's event loop sends them, so
an API answer never waits for a receiver. Retries fall due by the emulator's clock, so a test
can move the clock past a retry delay (or shorten the delays with `POST /_emulator/settings`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from amocrm_emulator.clock import Clock
from amocrm_emulator.config import Switches
from amocrm_emulator.state.models import Account, JSONDict
from amocrm_emulator.state.store import State
from amocrm_emulator.webhooks.payloads import CONTENT_TYPE, USER_AGENT, encode, event_name

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("amocrm_emulator")

MAX_DELIVERIES = 5_000
# Retries 2 and 3 follow any invalid answer; 4 and 5 only a 499 or a 5xx (amoCRM docs).
ALWAYS_RETRIED_ATTEMPTS = 3
MAX_ATTEMPTS = 5
IDLE_WAKE_SECONDS = 0.2


def is_success(status: int) -> bool:
    return 100 <= status < 300


def deserves_late_retry(status: int) -> bool:
    return status == 499 or status >= 500


@dataclass
class Delivery:
    """One attempt to deliver one hook, as `GET /_emulator/webhook-deliveries` lists it."""

    id: int
    webhook_id: int
    account_id: int
    destination: str
    event: str
    body: str
    attempt: int
    # None while the attempt is waiting; 0 when no HTTP answer came (timeout, refused).
    status: int | None
    error: str | None
    due_at: float
    sent_at: float | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class WebhookDispatcher:
    def __init__(
        self,
        state: Callable[[], State],
        clock: Clock,
        switches: Switches,
        changed: Callable[[], None],
    ) -> None:
        self._state = state
        self._changed = changed
        self._clock = clock
        self._switches = switches
        self.deliveries: deque[Delivery] = deque(maxlen=MAX_DELIVERIES)
        self._pending: list[Delivery] = []
        self._next_id = 1
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._http: httpx.AsyncClient | None = None

    # ---- queueing ------------------------------------------------------------------------
    def emit(self, account: Account, entity_key: str, action: str, item: JSONDict) -> None:
        """Queue the hook of one change for every webhook of the account that wants it."""
        name = event_name(entity_key, action)
        webhooks = sorted(
            (
                w
                for w in self._state().webhooks.values()
                if w.account_id == account.id and not w.disabled and name in w.settings
            ),
            key=lambda w: (w.sort, w.id),
        )
        if not webhooks:
            return
        body = encode(account, entity_key, action, item)
        for webhook in webhooks:
            self._queue(webhook.id, account.id, webhook.destination, name, body, 1, 0.0)

    def _queue(
        self,
        webhook_id: int,
        account_id: int,
        destination: str,
        event: str,
        body: str,
        attempt: int,
        delay: float,
    ) -> None:
        delivery = Delivery(
            id=self._next_id,
            webhook_id=webhook_id,
            account_id=account_id,
            destination=destination,
            event=event,
            body=body,
            attempt=attempt,
            status=None,
            error=None,
            due_at=self._clock.now() + delay,
        )
        self._next_id += 1
        self.deliveries.append(delivery)
        self._pending.append(delivery)
        self._wake.set()

    def clear(self) -> None:
        self.deliveries.clear()
        self._pending.clear()

    def clock_moved(self) -> None:
        self._wake.set()

    # ---- the background loop -------------------------------------------------------------
    async def start(self) -> None:
        import httpx  # imported here: httpx is slow to import and only delivery needs it

        # `trust_env=False`: receivers on 127.0.0.1 must be reached directly, never via a proxy.
        self._http = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        self._loop_task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()

    async def _run(self) -> None:
        while True:
            now = self._clock.now()
            due = [d for d in self._pending if d.due_at <= now]
            for delivery in due:
                self._pending.remove(delivery)
                task = asyncio.create_task(self._send(delivery))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)
            waits = [d.due_at - now for d in self._pending]
            timeout = min([IDLE_WAKE_SECONDS, *waits])
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.0))

    async def _send(self, delivery: Delivery) -> None:
        import httpx

        webhook = self._state().webhooks.get(delivery.webhook_id)
        if webhook is None or webhook.disabled or webhook.destination != delivery.destination:
            delivery.error = "webhook removed or disabled"
            return
        assert self._http is not None
        status = 0
        try:
            response = await self._http.post(
                delivery.destination,
                content=delivery.body.encode("ascii"),
                headers={"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT},
                timeout=self._switches.webhook_timeout,
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            delivery.error = type(exc).__name__
        delivery.status = status
        delivery.sent_at = self._clock.now()
        if is_success(status):
            return
        if self._count_failure(delivery):
            return
        attempt = delivery.attempt
        retry = attempt < ALWAYS_RETRIED_ATTEMPTS or (
            attempt < MAX_ATTEMPTS and deserves_late_retry(status)
        )
        delays = self._switches.webhook_retry_delays
        if retry and attempt - 1 < len(delays):
            self._queue(
                delivery.webhook_id,
                delivery.account_id,
                delivery.destination,
                delivery.event,
                delivery.body,
                attempt + 1,
                delays[attempt - 1],
            )

    def _count_failure(self, delivery: Delivery) -> bool:
        """Note an invalid answer; past the limit in the window the webhook is disabled.

        Returns whether the webhook is (now) disabled or gone, so no retry follows.
        """
        webhook = self._state().webhooks.get(delivery.webhook_id)
        if webhook is None:
            return True
        now = self._clock.now()
        window_start = now - self._switches.webhook_disable_window
        webhook.failures = [t for t in webhook.failures if t >= window_start] + [now]
        if len(webhook.failures) > self._switches.webhook_disable_after:
            webhook.disabled = True
            self._changed()
            logger.info("webhook %s disabled after repeated failures", webhook.id)
        return webhook.disabled
