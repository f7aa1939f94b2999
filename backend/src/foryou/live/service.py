"""Following amoCRM's changes and telling each broker about the ones they can see.

In: webhooks (`receive`: checked, parsed, deduplicated and queued within amoCRM's 2 s, never an
amoCRM call inline) and, for accounts where no admin could register a webhook, the events poll
(`follow_accounts`, run by the worker), read with the token of each broker who follows the
account now, since amoCRM shows a user only the events of what they may see. A queued change
retires exactly the cached copies it touches and is routed to the brokers of the account who
saw that lead, are responsible for it, or own the task; `lead.assigned` names the lead as
amoCRM shows it to the assignee (read with their own token), never as the webhook body says.
Webhooks are registered with the agency connection when the account has one, else with an admin
broker's own token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from foryou.agency.gateway import AccountAdmin, AccountGateway
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crm.activity import BrokerActivity
from foryou.crm.amo import CrmGateway
from foryou.crm.cache import CrmCache
from foryou.crm.catalog import CrmCatalog
from foryou.crm.domain import as_int, as_text, embedded
from foryou.db import Database
from foryou.errors import AppError
from foryou.integrations.amocrm.errors import AmoCrmError
from foryou.integrations.amocrm.tokens import UsableToken
from foryou.live import repository
from foryou.live.changes import (
    Change,
    account_of,
    changes_of,
    changes_of_events,
    tasks_to_resolve,
)
from foryou.live.form import BadForm, parse_form
from foryou.live.hub import LiveHub, Subscription
from foryou.live.metrics import (
    EVENTS_POLL_CALLS,
    EVENTS_POLL_CHANGES,
    WEBHOOK_ITEMS,
    WEBHOOK_REFUSED,
    WEBHOOK_REGISTRATIONS,
)
from foryou.live.models import AccountFeed
from foryou.live.repository import Follower
from foryou.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")

WEBHOOK_PATH = "/api/v1/integrations/amo-crm/webhooks/"
WEBHOOK_EVENTS = [
    "add_lead",
    "update_lead",
    "status_lead",
    "responsible_lead",
    "note_lead",
    "delete_lead",
    "add_task",
    "update_task",
    "delete_task",
    "responsible_task",
    "add_contact",
    "update_contact",
]
# The poll reads events from a little before the newest one seen (amoCRM gives no order
# guarantee) and drops those already handled.
POLL_OVERLAP_SECONDS = 60
POLL_PAGES = 5
EVENTS_PAGE = 100
# The poll takes at most this share of the account's budget for one interval (a call per
# broker, more only when many events came); the rest is the brokers'.
POLL_BUDGET_SHARE = 0.25
# A broker new to the poll reads events from at most this far back.
NEW_FOLLOWER_LOOKBACK_SECONDS = 300
# A stream's watching mark outlives two heartbeats by this much.
WATCH_SLACK_SECONDS = 5.0
# A broker's cursor outlives a day without the app.
CURSOR_SECONDS = 86_400.0
# Tasks named by one poll's events are read in pages of this many (amoCRM's largest page).
TASKS_PAGE = 250
TICKET_SECONDS = 60
RECEIVED_EVERY = timedelta(minutes=1)
# Longer than a webhook check takes (two amoCRM calls, each waiting for a budget slot).
WEBHOOK_SYNC_LEASE = timedelta(seconds=120)
QUEUE_SIZE = 10_000


class WebhookRefused(AppError):
    status_code = 400
    code = "webhook_invalid"
    message = "The webhook body is not one amoCRM sends."


class WebhookUnknown(AppError):
    status_code = 404
    code = "webhook_unknown"
    message = "No webhook is registered at this address."


class TicketInvalid(AppError):
    status_code = 401
    code = "unauthorized"
    message = "The stream ticket is unknown, used or expired."


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class _BrokerAdmin:
    """Account-level calls with an admin broker's own token."""

    def __init__(self, gateway: CrmGateway, token: UsableToken) -> None:
        self._amo = gateway
        self._token = token

    @property
    def account_id(self) -> int:
        return self._token.account_id

    async def webhooks(self) -> list[dict[str, Any]]:
        return embedded(await self._amo.get(self._token, "/api/v4/webhooks"), "webhooks")

    async def add_webhook(self, destination: str, events: list[str]) -> None:
        await self._amo.post_object(
            self._token, "/api/v4/webhooks", {"destination": destination, "settings": events}
        )


class LiveService:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        settings: Settings,
        hub: LiveHub,
        cache: CrmCache,
        catalog: CrmCatalog,
        gateway: CrmGateway,
        activity: BrokerActivity,
        agency: AccountGateway | None = None,
    ) -> None:
        self._activity = activity
        self._db = db
        self._clock = clock
        self._settings = settings
        self._hub = hub
        self._cache = cache
        self._catalog = catalog
        self._amo = gateway
        self._agency = agency
        self._queue: asyncio.Queue[Change] = asyncio.Queue(QUEUE_SIZE)
        self._drainer: asyncio.Task[None] | None = None
        # When each (account, amoCRM user) was last polled: the longest-waiting go first.
        self._polled_at: dict[tuple[int, int], float] = {}

    # --- webhooks in --------------------------------------------------------------------

    async def receive(self, key: str, body: bytes) -> int:
        """Queue the changes of one webhook request; the number of new items."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            feed = await repository.feed_by_key_hash(session, _hash(key))
            if feed is None:
                WEBHOOK_REFUSED.labels("unknown_key").inc()
                raise WebhookUnknown()
            account_id = feed.account_id
            # A write per hook would queue busy accounts' hooks behind the database's write
            # lock (amoCRM waits 2 s); once a minute is enough to show the feed is alive.
            if feed.last_received_at is None or now - feed.last_received_at > RECEIVED_EVERY:
                await repository.touch_received(session, account_id, now)
        try:
            form = parse_form(body)
        except BadForm as error:
            WEBHOOK_REFUSED.labels("bad_body").inc()
            log.info("webhook_refused", reason=str(error))
            raise WebhookRefused() from None
        if account_of(form) != account_id:
            WEBHOOK_REFUSED.labels("account_mismatch").inc()
            raise WebhookRefused()
        await self._catalog.mark_followed(account_id, self._settings.followed_cache_seconds)
        changes = changes_of(form, account_id)
        if not changes:
            WEBHOOK_ITEMS.labels("ignored").inc()
        return await self._enqueue(changes)

    async def _enqueue(self, changes: list[Change]) -> int:
        self._ensure_drainer()
        queued = 0
        for change in changes:
            fresh = await self._cache.add_once(
                f"hook:{change.fingerprint}", self._settings.webhook_dedupe_seconds
            )
            if not fresh:
                WEBHOOK_ITEMS.labels("deduped").inc()
                continue
            try:
                self._queue.put_nowait(change)
            except asyncio.QueueFull:
                # The poll (or the caches' own lifetime) catches up with what is dropped here.
                WEBHOOK_ITEMS.labels("dropped").inc()
                continue
            WEBHOOK_ITEMS.labels("accepted").inc()
            queued += 1
        return queued

    def _ensure_drainer(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await self.apply(change)
            except Exception:  # one bad change must not stop the others
                log.exception("live_change_failed", entity=change.entity)
            finally:
                self._queue.task_done()

    async def settled(self) -> None:
        """Wait until every queued change is applied (tests, shutdown)."""
        await self._queue.join()

    async def aclose(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
        await self._hub.aclose()

    # --- a change: caches, then the brokers who may hear of it ----------------------------

    async def apply(self, change: Change) -> None:
        account = change.account_id
        async with self._db.transaction() as session:
            followers = await repository.followers(session, account)
        if change.entity == "contact":
            # Lists show contact names and phones; which leads carry the contact is unknown.
            await self._catalog.forget_account_lists(account)
            for follower in followers:
                if follower.amo_user_id in change.responsible_ids:
                    await self._hub.publish(follower.user_id, "crm.invalidated", {})
            return
        if change.entity == "task":
            for amo_user in change.responsible_ids:
                await self._catalog.forget_tasks(account, amo_user)
            for follower in followers:
                if follower.amo_user_id in change.responsible_ids:
                    await self._hub.publish(
                        follower.user_id, "task.changed", {"taskId": change.entity_id}
                    )
            return
        await self._catalog.forget_lead(account, change.entity_id)
        if change.action != "note":
            if change.responsible_ids:
                # Its responsible (and the previous one) named: only their own-lead lists hold it.
                await self._catalog.forget_lists_with_lead_of(account, change.responsible_ids)
            else:
                await self._catalog.forget_account_lists(account)
        for follower in followers:
            mine = follower.amo_user_id in change.responsible_ids
            if mine or await self._catalog.has_seen(
                account, follower.amo_user_id, change.entity_id
            ):
                await self._hub.publish(
                    follower.user_id, "lead.changed", {"leadId": change.entity_id}
                )
            if change.assigned_to == follower.amo_user_id:
                await self._tell_assigned(follower.user_id, change.entity_id)

    async def _tell_assigned(self, user_id: uuid.UUID, lead_id: int) -> None:
        """The lead's name as amoCRM shows it to the assignee; nothing if it is hidden."""

        async def read(token: UsableToken) -> dict[str, Any] | None:
            return await self._amo.get(token, f"/api/v4/leads/{lead_id}")

        try:
            raw = await self._amo.as_broker(user_id, read)
        except (AmoCrmError, AppError) as error:
            log.info("live_assigned_unread", error_type=type(error).__name__)
            return
        if raw is None or as_int(raw.get("id")) != lead_id:
            return
        await self._hub.publish(
            user_id, "lead.assigned", {"leadId": lead_id, "name": as_text(raw.get("name")) or ""}
        )

    @property
    def heartbeat_seconds(self) -> float:
        return self._settings.live_heartbeat_seconds

    @property
    def stream_max_seconds(self) -> float:
        return self._settings.live_stream_max_seconds

    # --- streams --------------------------------------------------------------------------

    async def subscribe(self, user_id: uuid.UUID, last_event_id: int | None) -> Subscription:
        await self.still_watching(user_id)
        return await self._hub.subscribe(user_id, last_event_id)

    async def still_watching(self, user_id: uuid.UUID) -> None:
        """The user's stream is open (said at least every heartbeat while it is): without a
        webhook, the events poll reads with the token of whoever watches. The mark outlives
        one missed heartbeat and is gone soon after the stream ends."""
        await self._activity.watching(user_id, 2 * self.heartbeat_seconds + WATCH_SLACK_SECONDS)

    async def unsubscribe(self, user_id: uuid.UUID, subscription: Subscription) -> None:
        await self._hub.unsubscribe(user_id, subscription)

    async def issue_ticket(self, user_id: uuid.UUID) -> tuple[str, datetime]:
        """A single-use ticket for EventSource (which cannot send headers), for 60 s."""
        ticket = secrets.token_urlsafe(32)
        await self._cache.set(f"ticket:{_hash(ticket)}", str(user_id), TICKET_SECONDS)
        expires = self._clock.now().timestamp() + TICKET_SECONDS
        return ticket, datetime.fromtimestamp(expires, self._clock.now().tzinfo)

    async def redeem_ticket(self, ticket: str) -> uuid.UUID:
        user_id = await self._cache.pop(f"ticket:{_hash(ticket)}")
        if not isinstance(user_id, str):
            raise TicketInvalid()
        return uuid.UUID(user_id)

    # --- following accounts: webhooks registered, or events polled ------------------------

    async def follow_accounts(self) -> None:
        """For every account with active brokers: its webhook registered (checked each run),
        or, without an admin to register it, its events polled every `events_poll_seconds`."""
        async with self._db.transaction() as session:
            accounts = await repository.active_accounts(session)
        for account_id in accounts:
            try:
                if await self.ensure_webhook(account_id):
                    # Registered and enabled: every change of the account reaches us, so its
                    # copies may live for minutes (and the worker may warm them).
                    await self._catalog.mark_followed(
                        account_id, self._settings.followed_cache_seconds
                    )
                else:
                    await self._poll_when_due(account_id)
            except (AmoCrmError, AppError) as error:
                log.warning(
                    "live_follow_failed", account_id=account_id, error_type=type(error).__name__
                )

    async def admin_token_for(
        self, account_id: int, operation: Callable[[AccountAdmin], Awaitable[T]]
    ) -> T | None:
        """Run account-level `operation` as an amoCRM admin of the account (None: no admin).

        The agency connection first (an admin's OAuth connection or a long-lived token); else
        a connected broker whose amoCRM user is an admin, with their own token. Only
        account-level calls are made this way: a broker's CRM data never is.
        """
        if self._agency is not None:
            done = await self._agency.as_account_admin(account_id, operation)
            if done is not None:
                return done
        async with self._db.transaction() as session:
            user_id = await repository.admin_user_of(session, account_id)
        if user_id is None:
            return None
        return await self._amo.as_broker(
            user_id, lambda token: operation(_BrokerAdmin(self._amo, token))
        )

    async def register_webhook_now(self, account_id: int) -> None:
        """An admin of the account just connected: register its webhook now rather than on
        the next worker run (two amoCRM calls, only for admins). A failure is left to the
        worker, which checks every account on each run; the connection stands either way."""
        try:
            await self.ensure_webhook(account_id)
        except (AmoCrmError, AppError) as error:
            log.warning(
                "webhook_register_failed", account_id=account_id, error_type=type(error).__name__
            )

    async def ensure_webhook(self, account_id: int) -> bool:
        """The account's webhook exists and is enabled at amoCRM; False without an admin."""
        found = await self.admin_token_for(account_id, self._sync_webhook)
        return found is not None

    async def _sync_webhook(self, admin: AccountAdmin) -> bool:
        """Check the account's webhook, and register it again when missing, disabled or short
        of an event. One process at a time per account (the feed's `sync_until`): another one
        checking it now counts as done."""
        account_id = admin.account_id
        now = self._clock.now()
        # The key of a webhook registered now; only its hash is kept.
        key = secrets.token_urlsafe(32)
        try:
            async with self._db.write_transaction() as session:
                feed = await repository.claim_feed(
                    session,
                    account_id,
                    new_key_hash=_hash(key),
                    now=now,
                    until=now + WEBHOOK_SYNC_LEASE,
                )
        except IntegrityError:
            feed = None  # another process created the feed a moment ago, and checks it
        if feed is None:
            return True
        registered = False
        try:
            await self._check_webhook(admin, feed, key)
            registered = True
        finally:
            async with self._db.transaction() as session:
                if registered:
                    await repository.update_feed(
                        session, account_id, registered_at=now, sync_until=None
                    )
                else:
                    await repository.update_feed(session, account_id, sync_until=None)
        return True

    async def _check_webhook(self, admin: AccountAdmin, feed: AccountFeed, key: str) -> None:
        prefix = self._settings.public_url.rstrip("/") + WEBHOOK_PATH
        created = feed.key_hash == _hash(key)
        current = next(
            (
                hook
                for hook in await admin.webhooks()
                if str(hook.get("destination", "")).startswith(prefix)
                and _hash(str(hook["destination"])[len(prefix) :]) == feed.key_hash
            ),
            None,
        )
        if current is None:
            # Only the key's hash is kept: a webhook that is gone gets a new key.
            destination = prefix + key
            reason = "new" if created else "missing"
            if not created:
                async with self._db.transaction() as session:
                    await repository.update_feed(
                        session, feed.account_id, key_hash=_hash(key), created_at=self._clock.now()
                    )
        elif current.get("disabled") or not set(current.get("settings") or []) >= set(
            WEBHOOK_EVENTS
        ):
            destination = str(current["destination"])
            reason = "disabled" if current.get("disabled") else "events"
        else:
            return
        await admin.add_webhook(destination, WEBHOOK_EVENTS)
        WEBHOOK_REGISTRATIONS.labels(reason).inc()
        log.info("webhook_registered", account_id=feed.account_id, reason=reason)

    async def _poll_when_due(self, account_id: int) -> None:
        interval = self._settings.events_poll_seconds
        # Shared through Redis when configured: two workers never poll one account twice.
        if interval > 0 and await self._cache.add_once(f"polldue:{account_id}", interval):
            await self.poll_events(account_id)

    async def poll_events(self, account_id: int) -> int:
        """Read the account's new events; the number of new changes.

        amoCRM shows each user only the events of what they may see, so one broker's token
        would miss what only their colleagues see: the events are read with the token of each
        broker who follows the account now (a live stream open, or a CRM request within the
        half hour), the longest-waiting first, as many as a quarter of the account's budget
        for one poll interval allows. Each broker has a cursor of their own; the same change
        read by two brokers is applied once.
        """
        try:
            async with self._db.write_transaction() as session:
                feed = await repository.feed_of(session, account_id)
                followers = await repository.followers(session, account_id)
                if feed is None:
                    feed = AccountFeed(
                        account_id=account_id,
                        key_hash=_hash(secrets.token_urlsafe(32)),
                        created_at=self._clock.now(),
                    )
                    await repository.add_feed(session, feed)
                account_cursor = feed.events_cursor
        except IntegrityError:
            return 0  # another process created the feed a moment ago, and polls it
        chosen = await self._brokers_to_poll(account_id, followers)
        now = int(self._clock.now().timestamp())
        newest = account_cursor if account_cursor is not None else now
        queued = 0
        for follower in chosen:
            self._polled_at[(account_id, follower.amo_user_id)] = self._clock.now().timestamp()
            try:
                seen, changes = await self._poll_as(account_id, follower, account_cursor, now)
            except (AmoCrmError, AppError) as error:
                log.info(
                    "events_poll_failed", account_id=account_id, error_type=type(error).__name__
                )
                continue
            newest = max(newest, seen)
            await self._catalog.mark_followed(
                account_id, self._follow_seconds(), amo_user_id=follower.amo_user_id
            )
            EVENTS_POLL_CHANGES.inc(len(changes))
            queued += await self._enqueue(changes)
        if chosen and newest != account_cursor:
            async with self._db.transaction() as session:
                await repository.update_feed(session, account_id, events_cursor=newest)
        return queued

    async def _brokers_to_poll(self, account_id: int, followers: list[Follower]) -> list[Follower]:
        watching: list[Follower] = []
        active: list[Follower] = []
        for follower in followers:
            if await self._activity.is_watching(follower.user_id):
                watching.append(follower)
            elif await self._activity.is_active(account_id, follower.amo_user_id):
                active.append(follower)

        def waited(follower: Follower) -> float:
            return self._polled_at.get((account_id, follower.amo_user_id), 0.0)

        budget = self._settings.amocrm_rate_limit * max(1.0, self._settings.events_poll_seconds)
        most = max(1, int(budget * POLL_BUDGET_SHARE))
        return (sorted(watching, key=waited) + sorted(active, key=waited))[:most]

    def _follow_seconds(self) -> float:
        """How long a polled broker counts as followed: past the next poll, and the one after
        it when that one had no room for them."""
        return max(self._settings.followed_cache_seconds, 3 * self._settings.events_poll_seconds)

    async def _poll_as(
        self, account_id: int, follower: Follower, account_cursor: int | None, now: int
    ) -> tuple[int, list[Change]]:
        """One broker's new events: (the newest event's time, the changes they name)."""
        key = f"evcursor:{account_id}:{follower.amo_user_id}"
        own = await self._cache.get(key)
        if isinstance(own, int):
            start = own
        else:
            # New to the poll: from where the account is, at most a few minutes back (what
            # they were shown came from amoCRM a moment ago).
            start = max(account_cursor or 0, now - NEW_FOLLOWER_LOOKBACK_SECONDS)
        events, task_owners = await self._amo.as_broker(
            follower.user_id, lambda token: self._read_events(token, start)
        )
        seen = max(
            [start, *(e["created_at"] for e in events if isinstance(e.get("created_at"), int))]
        )
        await self._cache.set(key, seen, CURSOR_SECONDS)
        return seen, changes_of_events(events, account_id, task_owners)

    async def _read_events(
        self, token: UsableToken, since: int
    ) -> tuple[list[dict[str, Any]], dict[int, int]]:
        """The events since `since`, and the responsible user of every task they name."""
        events: list[dict[str, Any]] = []
        for page in range(1, POLL_PAGES + 1):
            EVENTS_POLL_CALLS.inc()
            body = await self._amo.get(
                token,
                "/api/v4/events",
                {
                    "filter[created_at][from]": since - POLL_OVERLAP_SECONDS,
                    "filter[entity][]": ["lead", "task", "contact"],
                    "limit": EVENTS_PAGE,
                    "page": page,
                },
            )
            events.extend(embedded(body, "events"))
            if body is None or "next" not in (body.get("_links") or {}):
                break
        task_ids = tasks_to_resolve(events)
        owners: dict[int, int] = {}
        for first in range(0, len(task_ids), TASKS_PAGE):
            tasks = await self._amo.get(
                token,
                "/api/v4/tasks",
                {"filter[id][]": task_ids[first : first + TASKS_PAGE], "limit": TASKS_PAGE},
            )
            for task in embedded(tasks, "tasks"):
                task_id, owner = as_int(task.get("id")), as_int(task.get("responsible_user_id"))
                if task_id is not None and owner is not None:
                    owners[task_id] = owner
        return events, owners
