"""Throttles in the HTTP layer: one registry per app, and a dependency per guarded endpoint.

Any endpoint is throttled per client address with one line:

    @router.get("/callback", dependencies=[Depends(throttle_by_address("amocrm_callback"))])

Named throttles share their counts across every endpoint that uses the same name. A name
listed in `Throttles.policies` uses that (settings-driven) policy; any other name gets
`DEFAULT_ADDRESS_POLICY` unless the factory is given one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from foryou.client_address import client_address, parse_networks
from foryou.config import Settings
from foryou.throttle import Throttle, ThrottlePolicy, build_throttle, guard

LOGIN_BY_ACCOUNT = "login_account"
LOGIN_BY_ADDRESS = "login_address"

#: For endpoints without a policy of their own: plenty for a person, little for a script.
DEFAULT_ADDRESS_POLICY = ThrottlePolicy(attempts=30, penalty_seconds=60, max_penalty_seconds=900)


def settings_policies(settings: Settings) -> dict[str, ThrottlePolicy]:
    return {
        LOGIN_BY_ACCOUNT: ThrottlePolicy(
            attempts=settings.login_attempts_per_account,
            penalty_seconds=min(
                settings.login_penalty_seconds, settings.login_account_max_penalty_seconds
            ),
            max_penalty_seconds=settings.login_account_max_penalty_seconds,
        ),
        LOGIN_BY_ADDRESS: ThrottlePolicy(
            attempts=settings.login_attempts_per_address,
            penalty_seconds=min(
                settings.login_penalty_seconds, settings.login_address_max_penalty_seconds
            ),
            max_penalty_seconds=settings.login_address_max_penalty_seconds,
        ),
    }


class Throttles:
    """The app's named throttles (Redis-backed when Redis is configured) and address rule."""

    def __init__(self, settings: Settings, redis: Redis | None) -> None:
        self.policies = settings_policies(settings)
        self._redis = redis
        self._prefix = f"{settings.redis_prefix}throttle:"
        self._trusted = parse_networks(settings.trusted_proxies)
        self._built: dict[str, Throttle] = {}

    def get(self, name: str, policy: ThrottlePolicy | None = None) -> Throttle:
        throttle = self._built.get(name)
        if throttle is None:
            chosen = self.policies.get(name) or policy or DEFAULT_ADDRESS_POLICY
            throttle = build_throttle(self._redis, chosen, f"{self._prefix}{name}:")
            self._built[name] = throttle
        return throttle

    def address_of(self, request: Request) -> str:
        peer = request.client.host if request.client is not None else None
        return client_address(peer, request.headers.getlist("x-forwarded-for"), self._trusted)


async def get_throttles(request: Request) -> Throttles:
    throttles: Throttles = request.app.state.throttles
    return throttles


ThrottlesDep = Annotated[Throttles, Depends(get_throttles)]


@dataclass(frozen=True)
class CountedAttempt:
    """An attempt that was let through and counted; `refund` takes it back after a success."""

    throttle: Throttle
    key: str

    async def refund(self) -> None:
        await self.throttle.refund(self.key)

    async def clear(self) -> None:
        await self.throttle.clear(self.key)


def throttle_by_address(
    name: str, policy: ThrottlePolicy | None = None
) -> Callable[[Request], Awaitable[CountedAttempt]]:
    """A dependency that counts the request against its client address under `name` and
    answers 429 `too_many_requests` (with `Retry-After`) once the address used up its attempts."""

    async def dependency(request: Request) -> CountedAttempt:
        throttles = await get_throttles(request)
        attempt = CountedAttempt(throttles.get(name, policy), throttles.address_of(request))
        await guard(attempt.throttle, attempt.key)
        return attempt

    return dependency


async def count_attempt(throttles: Throttles, name: str, key: str) -> CountedAttempt:
    """Count an attempt under `name` for a key the endpoint knows (e.g. an e-mail), or 429."""
    attempt = CountedAttempt(throttles.get(name), key)
    await guard(attempt.throttle, attempt.key)
    return attempt
