"""What the CRM reads and writes share: an account's pipelines and currency, and the generations
that retire cached copies precisely.

- a broker's generation retires their lists and details (their own write changed them);
- an account's list generation retires the pages of every lead a broker may see (amoCRM told
  us, by a webhook or an event, that some lead changed; which pages hold it is unknown); the
  pages of a broker's own leads (the app's lists) are retired only by a change of a lead that
  broker is or was responsible for, or by any change whose lead's responsible is unknown;
- a lead's generation retires every broker's copy of that lead's details;
- a broker's task generation retires their task board.

Pipelines are kept per amoCRM account for minutes, the currency for an hour. While amoCRM's
changes are followed (for the whole account: its webhook is registered or one arrived; for one
broker: the events poll reads with their token) the copies live for minutes instead of seconds.
The leads each broker was shown are remembered, so live updates tell a broker only about leads
they saw.
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

    async def pages_generation(self, token: UsableToken, *, mine: bool) -> str:
        """The part of this broker's page keys that a change of the pages retires.

        A page of the broker's own leads (`mine`) changes only with a lead they are (or were)
        responsible for; a page of every lead they may see, with any lead of the account.
        """
        broker = await self._number(_generation_key(token.account_id, token.amo_user_id))
        if mine:
            own = await self._number(_own_lists_key(token.account_id, token.amo_user_id))
            every_own = await self._number(f"ownlistgen:{token.account_id}")
            return f"{broker}.m{own}.{every_own}"
        account = await self._number(f"listgen:{token.account_id}")
        return f"{broker}.{account}"

    async def lead_generation(self, token: UsableToken, lead_id: int) -> str:
        """The part of this broker's key of a lead's details that a change retires."""
        broker = await self._number(_generation_key(token.account_id, token.amo_user_id))
        lead = await self._number(_lead_key(token.account_id, lead_id))
        return f"{broker}.{lead}"

    async def tasks_generation(self, token: UsableToken) -> int:
        return await self._number(_tasks_key(token.account_id, token.amo_user_id))

    async def forget_broker_pages(self, token: UsableToken) -> None:
        """After a change by this broker, their cached lists and details are out of date."""
        await self._cache.incr(_generation_key(token.account_id, token.amo_user_id))

    async def forget_lead(self, account_id: int, lead_id: int) -> None:
        """This lead changed: every broker's copy of its details is out of date."""
        await self._cache.incr(_lead_key(account_id, lead_id))

    async def forget_account_lists(self, account_id: int) -> None:
        """Some lead of the account changed, whose it is unknown: every list goes."""
        await self._cache.incr(f"listgen:{account_id}")
        await self._cache.incr(f"ownlistgen:{account_id}")

    async def forget_lists_with_lead_of(
        self, account_id: int, amo_user_ids: tuple[int, ...]
    ) -> None:
        """A lead these amoCRM users are (or were) responsible for changed: their own-lead
        pages and every account-wide page go; other brokers' own-lead pages stay."""
        await self._cache.incr(f"listgen:{account_id}")
        for amo_user_id in amo_user_ids:
            await self._cache.incr(_own_lists_key(account_id, amo_user_id))

    async def forget_tasks(self, account_id: int, amo_user_id: int) -> None:
        await self._cache.incr(_tasks_key(account_id, amo_user_id))

    async def mark_followed(
        self, account_id: int, seconds: float, *, amo_user_id: int | None = None
    ) -> None:
        """amoCRM's changes reach us (for `seconds` at least): every change of the account (a
        webhook), or those one amoCRM user may see (the events poll, read with their token)."""
        await self._cache.set(_followed_key(account_id, amo_user_id), 1, seconds)

    async def is_followed(self, account_id: int, amo_user_id: int) -> bool:
        """Whether the changes this amoCRM user's copies could miss reach us."""
        for key in (_followed_key(account_id, None), _followed_key(account_id, amo_user_id)):
            if await self._cache.get(key) is not None:
                return True
        return False

    async def remember_seen(self, token: UsableToken, lead_ids: list[int]) -> None:
        """This broker was shown these leads (amoCRM let them see them)."""
        for lead_id in lead_ids:
            key = _seen_key(token.account_id, token.amo_user_id, lead_id)
            await self._cache.set(key, 1, SEEN_SECONDS)

    async def has_seen(self, account_id: int, amo_user_id: int, lead_id: int) -> bool:
        return await self._cache.get(_seen_key(account_id, amo_user_id, lead_id)) is not None

    async def _number(self, key: str) -> int:
        value = await self._cache.get(key)
        return int(value) if isinstance(value, int) else 0


# How long a broker who was shown a lead hears about its changes (an app keeps its copies
# for about a day at most).
SEEN_SECONDS = 86_400.0


def _followed_key(account_id: int, amo_user_id: int | None) -> str:
    if amo_user_id is None:
        return f"followed:{account_id}"
    return f"followed:{account_id}:{amo_user_id}"


def _generation_key(account_id: int, amo_user_id: int) -> str:
    return f"gen:{account_id}:{amo_user_id}"


def _own_lists_key(account_id: int, amo_user_id: int) -> str:
    return f"ownlistgen:{account_id}:{amo_user_id}"


def _lead_key(account_id: int, lead_id: int) -> str:
    return f"leadgen:{account_id}:{lead_id}"


def _tasks_key(account_id: int, amo_user_id: int) -> str:
    return f"taskgen:{account_id}:{amo_user_id}"


def _seen_key(account_id: int, amo_user_id: int, lead_id: int) -> str:
    return f"seen:{account_id}:{amo_user_id}:{lead_id}"
