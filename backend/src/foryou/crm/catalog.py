"""What the CRM reads and the lead creator share: an account's pipelines and currency, and the
generation of each broker's cached pages (a broker's create retires their cached lists and
details).

Pipelines are kept per amoCRM account for minutes, the currency for an hour; generations per
amoCRM user of an account.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from foryou.crm.amo import CrmGateway
from foryou.crm.cache import CachedRead, CachedReads, CrmCache
from foryou.crm.domain import Currency, Pipeline, Stage, parse_currency, parse_pipelines
from foryou.integrations.amocrm.errors import AmoUnauthorized
from foryou.integrations.amocrm.tokens import UsableToken


def _pipelines_to_json(pipelines: list[Pipeline]) -> list[dict[str, Any]]:
    return [asdict(pipeline) for pipeline in pipelines]


def _pipelines_from_json(items: list[dict[str, Any]]) -> list[Pipeline]:
    return [
        Pipeline(**{**item, "stages": [Stage(**stage) for stage in item["stages"]]})
        for item in items
    ]


PIPELINES = CachedRead[list[Pipeline]](
    field="items",
    ttl_seconds=300.0,
    min_refresh_seconds=5.0,
    to_json=_pipelines_to_json,
    from_json=_pipelines_from_json,
    # Concurrent tab opens of one account share one upstream read, made with the first
    # caller's token: amoCRM refusing that token says nothing about the others' tokens.
    single_flight=True,
    leaders_own=(AmoUnauthorized,),
)


CURRENCY = CachedRead[Currency](
    field="currency",
    # An account's currency is set once, in its settings: an hour old is fresh enough.
    ttl_seconds=3600.0,
    min_refresh_seconds=60.0,
    to_json=asdict,
    from_json=lambda item: Currency(**item),
    single_flight=True,
    leaders_own=(AmoUnauthorized,),
)


class CrmCatalog:
    def __init__(self, gateway: CrmGateway, cache: CrmCache, reads: CachedReads) -> None:
        self._amo = gateway
        self._cache = cache
        self._reads = reads

    async def pipelines(self, token: UsableToken, *, refresh: bool = False) -> list[Pipeline]:
        """Pipelines of the token's account."""

        async def fetch() -> list[Pipeline]:
            return parse_pipelines(await self._amo.get(token, "/api/v4/leads/pipelines"))

        return await self._reads.read(
            PIPELINES, f"pipelines:{token.account_id}", fetch, refresh=refresh
        )

    async def currency(self, token: UsableToken, *, refresh: bool = False) -> Currency:
        """The currency of the token's account, for the app to format prices with."""

        async def fetch() -> Currency:
            return parse_currency(await self._amo.get(token, "/api/v4/account"))

        return await self._reads.read(
            CURRENCY, f"currency:{token.account_id}", fetch, refresh=refresh
        )

    async def pages_generation(self, token: UsableToken) -> int:
        """The number in the keys of this broker's cached pages; a change retires them all."""
        value = await self._cache.get(_generation_key(token))
        return int(value) if isinstance(value, int) else 0

    async def forget_broker_pages(self, token: UsableToken) -> None:
        """After a change by this broker, their cached lists and details are out of date."""
        await self._cache.incr(_generation_key(token))


def _generation_key(token: UsableToken) -> str:
    return f"gen:{token.account_id}:{token.amo_user_id}"
