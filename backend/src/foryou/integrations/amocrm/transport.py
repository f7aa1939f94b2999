"""The one seam through which every amoCRM request leaves the backend."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from foryou.config import Settings
from foryou.integrations.amocrm.errors import AmoBadResponse, AmoTimeout, AmoUnavailable


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


class AmoCrmTransport:
    """Sends a request to a validated amoCRM host.

    With `upstream_url` set (tests and the demo), every host is sent to that base URL with the
    real host in `Host`, so host validation stays exactly as in production.
    """

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self._http = http
        self._upstream_url = settings.amocrm_upstream_url
        self._total_timeout = (
            settings.amocrm_timeout_seconds + settings.amocrm_connect_timeout_seconds
        )

    def target(self, host: str, path: str) -> tuple[str, dict[str, str]]:
        if self._upstream_url:
            return f"{self._upstream_url}{path}", {"Host": host}
        return f"https://{host}{path}", {}

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
        """One request, no redirects; raises AmoTimeout / AmoUnavailable on transport failure.

        `account_id` and `idempotent` are what the rate limiter and the retry policy key on.
        """
        url, routing = self.target(host, path)
        request_headers = {**routing, **(headers or {})}
        try:
            async with asyncio.timeout(self._total_timeout):
                response = await self._http.request(
                    method,
                    url,
                    headers=request_headers,
                    params=params,
                    json=json,
                    follow_redirects=False,
                )
        except (TimeoutError, httpx.TimeoutException):
            raise AmoTimeout("amoCRM did not answer in time") from None
        except httpx.TransportError:
            raise AmoUnavailable("could not reach amoCRM") from None
        if response.is_redirect:
            # A redirect is never followed: a 307/308 would resend the client secret.
            raise AmoBadResponse("amoCRM answered with a redirect", response.status_code)
        return response
