"""The CRM feature's calls to amoCRM: always the broker's own token, always the shared budget.

Reads go through `AmoCrmClient.api_get`; writes through the same transport with
`idempotent=False`, so a POST whose answer was lost is never sent again automatically.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from foryou.integrations.amocrm.client import AmoCrmClient, raise_for_api_status
from foryou.integrations.amocrm.errors import AmoBadResponse
from foryou.integrations.amocrm.tokens import TokenProvider, UsableToken
from foryou.integrations.amocrm.transport import AmoCrmTransport

T = TypeVar("T")

# Background reads wait this long for an idle budget before they give way to the brokers.
IDLE_WAIT_SECONDS = 1.0
IDLE_POLL_SECONDS = 0.1


class CrmGateway:
    def __init__(
        self, tokens: TokenProvider, client: AmoCrmClient, transport: AmoCrmTransport
    ) -> None:
        self._tokens = tokens
        self._client = client
        self._transport = transport

    async def as_broker(
        self, user_id: uuid.UUID, operation: Callable[[UsableToken], Awaitable[T]]
    ) -> T:
        """Run `operation` with the broker's usable token (refresh once on a 401)."""
        return await self._tokens.call(user_id, operation)

    async def wait_idle(self, token: UsableToken, within: float = IDLE_WAIT_SECONDS) -> bool:
        """Wait (at most `within`) until the token's account has budget nobody waits for.

        One request books the next slot ahead, so right after our own call the budget looks
        busy for a fraction of a second; only while brokers keep it booked does it stay so.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not await self._transport.idle(token.host.host):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(IDLE_POLL_SECONDS)
        return True

    async def get(
        self, token: UsableToken, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """GET an API v4 path; None for amoCRM's 204 "nothing found"."""
        return await self._client.api_get(
            token.host, token.access_token, path, account_id=token.account_id, params=params
        )

    async def patch(self, token: UsableToken, path: str, body: dict[str, Any]) -> None:
        """PATCH one entity by id (amoCRM answers with its id and time only)."""
        await self._write(token, "PATCH", path, body)

    async def post_object(self, token: UsableToken, path: str, body: dict[str, Any]) -> None:
        """POST one object (not a batch), such as a webhook; amoCRM answers 200 or 201."""
        await self._write(token, "POST", path, body)

    async def _write(
        self, token: UsableToken, method: str, path: str, body: dict[str, Any]
    ) -> None:
        await self._client.api_write(
            token.host, token.access_token, method, path, body, account_id=token.account_id
        )

    async def post(self, token: UsableToken, path: str, body: list[dict[str, Any]]) -> int:
        """POST one entity to a batch endpoint and return the id amoCRM gave it."""
        response = await self._transport.send(
            "POST",
            token.host.host,
            path,
            account_id=token.account_id,
            idempotent=False,
            headers={"Authorization": f"Bearer {token.access_token}"},
            json=body,
        )
        raise_for_api_status(response)
        status = response.status_code
        try:
            payload = response.json()
            (created,) = next(iter(payload["_embedded"].values()))
            entity_id = created["id"]
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
            raise AmoBadResponse("amoCRM answered a write without the new id", status) from None
        if not isinstance(entity_id, int) or isinstance(entity_id, bool):
            raise AmoBadResponse("amoCRM answered a write without the new id", status)
        return entity_id
