"""The LiveHub: per-user numbered events, a bounded buffer for resuming, and fan-out to the
streams open on any replica.

Two implementations of one interface: in-process (one API process), and Redis (several
replicas: the sequence and the buffer live in Redis, each event is published on one channel
that every replica listens to and hands to its own open streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from foryou.logging import get_logger

log = get_logger(__name__)

# Events kept per user for resuming (the app is told to refetch everything past them).
BUFFER_SIZE = 100
# A user without events for this long loses their buffer (and resumes with a reset).
BUFFER_SECONDS = 86_400
# A stream that cannot keep up is cut (the app reconnects and resumes) rather than queue forever.
QUEUE_SIZE = 1_000


@dataclass(frozen=True)
class LiveEvent:
    id: int
    type: str
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "type": self.type, "data": self.data})

    @staticmethod
    def from_json(text: str | bytes) -> LiveEvent:
        raw = json.loads(text)
        return LiveEvent(int(raw["id"]), str(raw["type"]), dict(raw["data"]))


RESET = LiveEvent(0, "reset", {})


class Subscription:
    """One open stream: what it missed (or a reset), then the live events."""

    def __init__(self, queue: asyncio.Queue[LiveEvent]) -> None:
        self.queue = queue
        self.backlog: list[LiveEvent] = []

    async def events(self) -> AsyncIterator[LiveEvent]:
        last = 0
        for event in self.backlog:
            last = max(last, event.id)
            yield event
        while True:
            event = await self.queue.get()
            if event.id > last:  # the backlog may have carried it already
                last = event.id
                yield event


class LiveHub(Protocol):
    async def publish(self, user_id: uuid.UUID, kind: str, data: dict[str, Any]) -> None: ...

    async def subscribe(self, user_id: uuid.UUID, last_event_id: int | None) -> Subscription: ...

    async def unsubscribe(self, user_id: uuid.UUID, subscription: Subscription) -> None: ...

    async def aclose(self) -> None: ...


def _backlog(buffer: list[LiveEvent], sequence: int, last: int | None) -> list[LiveEvent]:
    """What a stream resuming after `last` missed, or a reset when the buffer lost some."""
    if last is None:
        return []
    if last > sequence:
        return [RESET]  # ids from before the sequence was lost
    missed = [event for event in buffer if event.id > last]
    if last < sequence and (not missed or missed[0].id != last + 1):
        return [RESET]
    return missed


class _LocalStreams:
    """The streams open in this process, by user."""

    def __init__(self) -> None:
        self.by_user: dict[uuid.UUID, set[asyncio.Queue[LiveEvent]]] = {}

    def open(self, user_id: uuid.UUID) -> Subscription:
        queue: asyncio.Queue[LiveEvent] = asyncio.Queue(QUEUE_SIZE)
        self.by_user.setdefault(user_id, set()).add(queue)
        return Subscription(queue)

    def close(self, user_id: uuid.UUID, subscription: Subscription) -> None:
        queues = self.by_user.get(user_id)
        if queues is not None:
            queues.discard(subscription.queue)
            if not queues:
                self.by_user.pop(user_id, None)

    def deliver(self, user_id: uuid.UUID, event: LiveEvent) -> None:
        for queue in list(self.by_user.get(user_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)


class LocalHub:
    """One process: sequences and buffers in memory."""

    def __init__(self) -> None:
        self._streams = _LocalStreams()
        self._sequence: dict[uuid.UUID, int] = {}
        self._buffers: dict[uuid.UUID, deque[LiveEvent]] = {}

    async def publish(self, user_id: uuid.UUID, kind: str, data: dict[str, Any]) -> None:
        sequence = self._sequence.get(user_id, 0) + 1
        self._sequence[user_id] = sequence
        event = LiveEvent(sequence, kind, data)
        self._buffers.setdefault(user_id, deque(maxlen=BUFFER_SIZE)).append(event)
        self._streams.deliver(user_id, event)

    async def subscribe(self, user_id: uuid.UUID, last_event_id: int | None) -> Subscription:
        subscription = self._streams.open(user_id)
        subscription.backlog = _backlog(
            list(self._buffers.get(user_id, ())), self._sequence.get(user_id, 0), last_event_id
        )
        return subscription

    async def unsubscribe(self, user_id: uuid.UUID, subscription: Subscription) -> None:
        self._streams.close(user_id, subscription)

    async def aclose(self) -> None:
        return None


class RedisHub:
    """Every replica: the sequence and buffer in Redis, events fanned out by pub/sub."""

    def __init__(self, redis: Redis[Any], prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}live:"
        self._channel = f"{prefix}live:events"
        self._streams = _LocalStreams()
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, user_id: uuid.UUID, kind: str, data: dict[str, Any]) -> None:
        try:
            sequence = int(await self._redis.incr(f"{self._prefix}seq:{user_id}"))
            event = LiveEvent(sequence, kind, data)
            buffer = f"{self._prefix}buf:{user_id}"
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.rpush(buffer, event.to_json())
                pipe.ltrim(buffer, -BUFFER_SIZE, -1)
                pipe.expire(buffer, BUFFER_SECONDS)
                pipe.expire(f"{self._prefix}seq:{user_id}", BUFFER_SECONDS)
                pipe.publish(
                    self._channel, json.dumps({"user": str(user_id), "event": event.to_json()})
                )
                await pipe.execute()
        except RedisError as error:
            # A lost hint costs the app a later refetch, never wrong data.
            log.warning("live_publish_failed", error_type=type(error).__name__)

    async def subscribe(self, user_id: uuid.UUID, last_event_id: int | None) -> Subscription:
        await self._listen()
        subscription = self._streams.open(user_id)
        if last_event_id is not None:
            try:
                raw = await self._redis.lrange(f"{self._prefix}buf:{user_id}", 0, -1)
                sequence = int(await self._redis.get(f"{self._prefix}seq:{user_id}") or 0)
                buffer = [LiveEvent.from_json(item) for item in raw]
            except RedisError:
                buffer, sequence = [], last_event_id + 1  # unknown: resume is impossible
            subscription.backlog = _backlog(buffer, sequence, last_event_id)
        return subscription

    async def unsubscribe(self, user_id: uuid.UUID, subscription: Subscription) -> None:
        self._streams.close(user_id, subscription)

    async def _listen(self) -> None:
        if self._listener is None or self._listener.done():
            self._listening.clear()
            self._listener = asyncio.create_task(self._run_listener())
        await self._listening.wait()

    async def _run_listener(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._listening.set()
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        raw = json.loads(message["data"])
                        self._streams.deliver(
                            uuid.UUID(raw["user"]), LiveEvent.from_json(raw["event"])
                        )
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, ValueError, KeyError) as error:
                log.warning("live_listener_failed", error_type=type(error).__name__)
                self._listening.set()  # streams still open; they get events once reconnected
                await asyncio.sleep(1.0)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


def build_hub(redis: Redis[Any] | None, prefix: str) -> LiveHub:
    return RedisHub(redis, prefix) if redis is not None else LocalHub()
