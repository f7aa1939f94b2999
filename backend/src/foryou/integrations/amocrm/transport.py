"""The one seam through which every amoCRM request leaves the backend.

Requests go through `foryou.upstream.UpstreamClient` (per-account rate limit shared by all
processes, circuit on 403 blocks, retries only where harmless), which raises the vendor
errors of `foryou.integrations.amocrm.errors` itself.
"""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis

from foryou.config import Settings
from foryou.integrations.amocrm.errors import AmoBadResponse
from foryou.upstream import (
    InProcessCircuit,
    InProcessRateLimiter,
    RedisCircuit,
    RedisRateLimiter,
    RetryPolicy,
    UpstreamClient,
)


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """The shared client: no environment proxies, no redirects, bounded waits."""
    timeout = httpx.Timeout(
        settings.amocrm_timeout_seconds, connect=settings.amocrm_connect_timeout_seconds
    )
    return httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


def build_upstream_client(
    http: httpx.AsyncClient, settings: Settings, redis: Redis | None
) -> UpstreamClient:
    """Redis-backed budget and circuit when Redis is configured, in-process otherwise."""
    policy = RetryPolicy(
        timeout=settings.amocrm_timeout_seconds,
        max_queue_wait=settings.amocrm_max_queue_wait_seconds,
    )
    if redis is not None:
        prefix = settings.redis_prefix
        return UpstreamClient(
            http,
            RedisRateLimiter(redis, rate=settings.amocrm_rate_limit, prefix=f"{prefix}amo:rl:"),
            RedisCircuit(redis, prefix=f"{prefix}amo:circuit:"),
            policy,
        )
    return UpstreamClient(
        http, InProcessRateLimiter(rate=settings.amocrm_rate_limit), InProcessCircuit(), policy
    )


class AmoCrmTransport:
    """Sends a request to a validated amoCRM host.

    With `upstream_url` set (tests and the demo), every host is sent to that base URL with the
    real host in `Host`, so host validation stays exactly as in production.
    """

    def __init__(self, upstream: UpstreamClient, settings: Settings) -> None:
        self._upstream = upstream
        self._upstream_url = settings.amocrm_upstream_url

    def target(self, host: str, path: str) -> tuple[str, dict[str, str]]:
        if self._upstream_url:
            return f"{self._upstream_url}{path}", {"Host": host}
        return f"https://{host}{path}", {}

    async def idle(self, host: str) -> bool:
        """Whether the budget of the account at `host` is unused right now."""
        return await self._upstream.idle(host.lower())

    async def send(
        self,
        method: str,
        host: str,
        path: str,
        *,
        account_id: int | None,
        idempotent: bool,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One request, never following redirects; failures are AmoCrmErrors.

        The request counts against the budget of `host` (the validated account host);
        `account_id` is what callers know of the account and does not choose the budget, so
        that the code exchange, made before the id is known, shares it with later calls.
        """
        url, routing = self.target(host, path)
        response = await self._upstream.request(
            method,
            url,
            # One account, one budget: the validated account host names it, so the code
            # exchange (before the account id is known) and every later call share it.
            account_key=host.lower(),
            idempotent=idempotent,
            headers={**routing, **(headers or {})},
            params=params,
            json=json,
        )
        if response.is_redirect:
            # A redirect is never followed: a 307/308 would resend the client secret.
            raise AmoBadResponse("amoCRM answered with a redirect", response.status_code)
        return response
