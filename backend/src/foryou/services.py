"""The process-wide objects a running app shares, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis

from foryou.auth.passwords import Passwords
from foryou.auth.service import UserService
from foryou.auth.tokens import AppTokens
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crm.cache import build_cache
from foryou.crm.service import CrmService, build_crm_service
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.integrations.amocrm.client import AmoCrmClient
from foryou.integrations.amocrm.service import ConnectionService
from foryou.integrations.amocrm.tokens import TokenProvider
from foryou.integrations.amocrm.transport import (
    AmoCrmTransport,
    build_http_client,
    build_upstream_client,
)
from foryou.live.hub import build_hub
from foryou.live.service import LiveService
from foryou.redis_client import connect_redis
from foryou.secrets_store import ResolvedSecrets


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    http: httpx.AsyncClient
    users: UserService
    connections: ConnectionService
    tokens: TokenProvider
    crm: CrmService
    live: LiveService
    amocrm: AmoCrmClient
    redis: Redis[Any] | None

    async def aclose(self) -> None:
        # Unsaved token pairs get their last chance to be written before the database goes.
        await self.live.aclose()
        await self.tokens.aclose()
        await self.http.aclose()
        if self.redis is not None:
            # aclose() exists in redis>=5 but not in the published type stubs.
            await self.redis.aclose()  # type: ignore[attr-defined]
        await self.db.dispose()


def passwords_from(settings: Settings) -> Passwords:
    return Passwords(
        time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib
    )


def build_services(
    settings: Settings,
    secrets: ResolvedSecrets,
    clock: Clock,
    *,
    http: httpx.AsyncClient | None = None,
) -> Services:
    db = Database(settings.database_url)
    http_client = http or build_http_client(settings)
    cipher = TokenCipher(secrets.encryption_keys)
    app_tokens = AppTokens(settings, secrets.jwt_secret)
    redis: Redis[Any] | None = connect_redis(settings.redis_url) if settings.redis_url else None
    upstream = build_upstream_client(http_client, settings, redis)
    transport = AmoCrmTransport(upstream, settings)
    amocrm = AmoCrmClient(transport, settings)
    tokens = TokenProvider(db=db, cipher=cipher, client=amocrm, clock=clock, settings=settings)
    crm = build_crm_service(
        tokens=tokens,
        client=amocrm,
        transport=transport,
        db=db,
        clock=clock,
        redis=redis,
        redis_prefix=settings.redis_prefix,
        followed_cache_seconds=settings.followed_cache_seconds,
    )
    live = LiveService(
        db=db,
        clock=clock,
        settings=settings,
        hub=build_hub(redis, settings.redis_prefix),
        cache=build_cache(redis, settings.redis_prefix, clock),
        catalog=crm.catalog,
        gateway=crm.gateway,
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        http=http_client,
        users=UserService(db, app_tokens, clock, passwords_from(settings)),
        connections=ConnectionService(
            db=db, cipher=cipher, client=amocrm, clock=clock, settings=settings
        ),
        tokens=tokens,
        crm=crm,
        live=live,
        amocrm=amocrm,
        redis=redis,
    )
