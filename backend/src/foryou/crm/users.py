"""Names of amoCRM users, per account, with as few upstream calls as possible.

amoCRM lets only account admins read `/api/v4/users` (403 for everyone else). Names come,
in order, from the account's cached directory, from what our own connections know (each
broker's name, learnt when they connected), from the broker's app profile for their own id,
and only then from one read of the users list — through the agency connection when the
account has one, else with the broker's token — which is remembered per account when it
works and per amoCRM user when it is refused, so a broker never asks twice in a row.
"""

from __future__ import annotations

from foryou.agency.gateway import AccountGateway
from foryou.crm import repository
from foryou.crm.amo import CrmGateway
from foryou.crm.cache import CrmCache
from foryou.db import Database
from foryou.integrations.amocrm.client import USER_PAGE_LIMIT, read_user_names
from foryou.integrations.amocrm.errors import AmoForbidden
from foryou.integrations.amocrm.tokens import UsableToken

USERS_TTL_SECONDS = 600.0


class UserDirectory:
    def __init__(
        self,
        gateway: CrmGateway,
        cache: CrmCache,
        db: Database,
        agency: AccountGateway | None = None,
    ) -> None:
        self._amo = gateway
        self._cache = cache
        self._db = db
        self._agency = agency

    async def names(
        self, token: UsableToken, broker_name: str | None, user_ids: set[int]
    ) -> dict[int, str]:
        """Names of `user_ids` that can be learnt; unknown ids are simply absent."""
        names: dict[int, str] = {}
        own_name = token.amo_user_name or broker_name
        if own_name:
            names[token.amo_user_id] = own_name
        if not user_ids - names.keys():
            return names
        directory = await self._cache.get(f"users:{token.account_id}")
        if isinstance(directory, dict):
            names.update({int(k): v for k, v in directory.items()})
        missing = user_ids - names.keys()
        if not missing:
            return names
        async with self._db.transaction() as session:
            known = await repository.known_user_names(session, token.account_id)
        names = {**known, **names}
        missing = user_ids - names.keys()
        if not missing or directory is not None:
            return names
        listed = await self._read_users(token)
        if listed is None:
            return names
        await self._cache.set(
            f"users:{token.account_id}", {str(k): v for k, v in listed.items()}, USERS_TTL_SECONDS
        )
        return {**names, **listed}

    async def _read_users(self, token: UsableToken) -> dict[int, str] | None:
        """The account's users: through the agency connection when the account has one (the
        users catalogue is account-level work), else with this broker's token, or None when
        neither may read them (a refused broker is remembered, and not asked again soon)."""
        if self._agency is not None:
            listed = await self._agency.user_names(token.account_id)
            if listed is not None:
                return listed
        denied_key = f"users-denied:{token.account_id}:{token.amo_user_id}"
        if await self._cache.get(denied_key):
            return None
        try:
            return await read_user_names(
                lambda page: self._amo.get(
                    token, "/api/v4/users", {"page": page, "limit": USER_PAGE_LIMIT}
                )
            )
        except AmoForbidden:
            await self._cache.set(denied_key, True, USERS_TTL_SECONDS)
            return None
