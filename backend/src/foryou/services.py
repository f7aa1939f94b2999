"""The process-wide objects a running app shares, built once from Settings."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis

from foryou.admin.service import AdminService
from foryou.agency.gateway import AccountGateway
from foryou.agency.service import AgencyService
from foryou.auth.passwords import Passwords
from foryou.auth.service import UserService
from foryou.auth.tokens import AppTokens
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crm.cache import build_cache
from foryou.crm.service import CrmService, build_crm_service
from foryou.crm.warm import CacheWarmer
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.integrations.amocrm.client import AmoCrmClient
from foryou.integrations.amocrm.hook import DisableHookService
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
from foryou.worker.keepalive import KeepAliveWorker


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    http: httpx.AsyncClient
    users: UserService
    connections: ConnectionService
    disable_hook: DisableHookService
    tokens: TokenProvider
    crm: CrmService
    live: LiveService
    agency: AgencyService
    admin: AdminService
    amocrm: AmoCrmClient
    redis: Redis | None

    async def aclose(self) -> None:
        # Unsaved token pairs get their last chance to be written before the database goes.
        await self.live.aclose()
        await self.tokens.aclose()
        await self.http.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.dispose()

    def keep_alive_worker(self, *, embedded: bool) -> KeepAliveWorker:
        """The keep-alive worker on these services: embedded in the app or a process of its own.

        A worker of its own warms the API's caches only through Redis: without it, its copies
        would be its own, and no broker would ever read them.
        """
        shares_caches = embedded or self.redis is not None
        return KeepAliveWorker(
            db=self.db,
            tokens=self.tokens,
            agency=self.agency,
            clock=self.clock,
            settings=self.settings,
            live=self.live,
            warmer=CacheWarmer(self.crm, self.clock, active_hours=self.settings.warm_active_hours)
            if shares_caches
            else None,
        )


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
    redis: Redis | None = connect_redis(settings.redis_url) if settings.redis_url else None
    upstream = build_upstream_client(http_client, settings, redis)
    transport = AmoCrmTransport(upstream, settings)
    amocrm = AmoCrmClient(transport, settings)
    tokens = TokenProvider(db=db, cipher=cipher, client=amocrm, clock=clock, settings=settings)
    account_gateway = AccountGateway(
        db=db, cipher=cipher, client=amocrm, tokens=tokens, clock=clock
    )
    users = UserService(db, app_tokens, clock, passwords_from(settings))
    crm = build_crm_service(
        tokens=tokens,
        client=amocrm,
        transport=transport,
        db=db,
        clock=clock,
        redis=redis,
        redis_prefix=settings.redis_prefix,
        followed_cache_seconds=settings.followed_cache_seconds,
        agency=account_gateway,
    )
    live = LiveService(
        db=db,
        clock=clock,
        settings=settings,
        hub=build_hub(redis, settings.redis_prefix),
        cache=build_cache(redis, settings.redis_prefix, clock),
        catalog=crm.catalog,
        gateway=crm.gateway,
        activity=crm.activity,
        agency=account_gateway,
    )
    return Services(
        settings=settings,
        clock=clock,
        db=db,
        http=http_client,
        users=users,
        connections=ConnectionService(
            db=db,
            cipher=cipher,
            client=amocrm,
            clock=clock,
            settings=settings,
            on_admin_connected=live.register_webhook_now,
        ),
        disable_hook=DisableHookService(
            db=db, cipher=cipher, client=amocrm, clock=clock, settings=settings
        ),
        tokens=tokens,
        crm=crm,
        live=live,
        agency=AgencyService(
            db=db,
            cipher=cipher,
            client=amocrm,
            tokens=tokens,
            gateway=account_gateway,
            clock=clock,
            settings=settings,
        ),
        admin=AdminService(db=db, clock=clock, users=users),
        amocrm=amocrm,
        redis=redis,
    )
