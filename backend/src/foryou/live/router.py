"""Live-updates endpoints: amoCRM's webhook receiver and the app's event stream (SSE)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.responses import StreamingResponse

from foryou.auth.deps import BearerToken, CrmUser, UsersDep
from foryou.auth.models import CurrentUser
from foryou.auth.service import admit
from foryou.live.deps import LiveDep
from foryou.live.form import MAX_BODY_BYTES
from foryou.live.metrics import STREAM_EVENTS_SENT
from foryou.live.schemas import StreamTicketOut, WebhookAccepted
from foryou.live.service import WebhookRefused
from foryou.schemas import Envelope, error_responses, ok
from foryou.throttle import ThrottlePolicy
from foryou.throttle_http import throttle_by_address

router = APIRouter(tags=["live"])
# amoCRM sends every account's hooks from a few addresses: far more than a person's allowance.
WEBHOOK_POLICY = ThrottlePolicy(attempts=1200, penalty_seconds=60, max_penalty_seconds=300)


@router.post(
    "/integrations/amo-crm/webhooks/{key}",
    response_model=Envelope[WebhookAccepted],
    responses=error_responses(400, 404, 413, 429),
    dependencies=[Depends(throttle_by_address("amocrm_webhook", WEBHOOK_POLICY))],
    include_in_schema=False,
)
async def receive_webhook(
    request: Request,
    live: LiveDep,
    key: Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
) -> Envelope[WebhookAccepted]:
    """amoCRM's account webhook: answered at once, the work is queued."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused()
    return ok(WebhookAccepted(accepted=await live.receive(key, body)))


@router.post(
    "/events/stream-ticket",
    response_model=Envelope[StreamTicketOut],
    responses=error_responses(401, 403),
)
async def stream_ticket(user: CrmUser, live: LiveDep) -> Envelope[StreamTicketOut]:
    ticket, expires_at = await live.issue_ticket(user.id)
    return ok(StreamTicketOut(ticket=ticket, expires_at=expires_at))


async def _stream_user(
    users: UsersDep,
    live: LiveDep,
    credentials: BearerToken,
    ticket: Annotated[str | None, Query(max_length=100)] = None,
) -> CurrentUser:
    """The bearer token, or (for EventSource, which cannot send headers) a stream ticket."""
    if credentials is None and ticket is not None:
        user = await users.user_by_id(await live.redeem_ticket(ticket))
        return admit(user, crm_only=True)
    return admit(
        await users.authenticate(credentials.credentials if credentials else None), crm_only=True
    )


@router.get(
    "/events/stream",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        **error_responses(401, 403),
    },
)
async def event_stream(
    request: Request,
    live: LiveDep,
    user: Annotated[CurrentUser, Depends(_stream_user)],
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=20)
    ] = None,
    last_event_id: Annotated[str | None, Query(alias="lastEventId", max_length=20)] = None,
) -> StreamingResponse:
    resume_from = last_event_id_header or last_event_id
    # Event ids are ASCII digits; isdigit() alone would admit '²', which int() refuses.
    last = (
        int(resume_from)
        if resume_from and resume_from.isascii() and resume_from.isdecimal()
        else None
    )
    subscription = await live.subscribe(user.id, last)
    heartbeat = live.heartbeat_seconds

    async def frames() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + live.stream_max_seconds
        watched_at = loop.time()
        try:
            yield ": connected\n\n"
            while (left := ends_at - loop.time()) > 0:
                if loop.time() - watched_at >= heartbeat:
                    await live.still_watching(user.id)
                    watched_at = loop.time()
                event = await subscription.next_event(min(heartbeat, left))
                if event is None:
                    yield ": heartbeat\n\n"
                    continue
                STREAM_EVENTS_SENT.labels(event.type).inc()
                yield f"id: {event.id}\nevent: {event.type}\ndata: {json.dumps(event.data)}\n\n"
        finally:
            await live.unsubscribe(user.id, subscription)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
