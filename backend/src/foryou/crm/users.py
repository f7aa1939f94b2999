"""Names of amoCRM users, per account, with as few upstream calls as possible.

amoCRM lets only account admins read `/api/v4/users` (403 for everyone else). Names come,
in order, from the account's cached directory, from what our own connections know (each
broker's name, learnt when they connected), from the broker's app profile for their own id,
and only then from one read of the users list — which is remembered per account when it
works and per amoCRM user when it is refused, so a broker never asks twice in a row.
"""

from __future__ import annotations

from typing import Any

from foryou.crm import repository
from foryou.crm.amo import CrmGateway
from foryou.crm.cache import CrmCache
from foryou.crm.domain import as_int, as_text, embedded, has_next_page
from foryou.db import Database
from foryou.integrations.amocrm.errors import AmoForbidden
from foryou.integrations.amocrm.tokens import UsableToken

USERS_TTL_SECONDS = 600.0
# amoCRM accounts have far fewer users than this; the walk stops here regardless.
_MAX_USER_PAGES = 4


class UserDirectory:
    def __init__(self, gateway: CrmGateway, cache: CrmCache, db: Database) -> None:
        self._amo = gateway
        self._cache = cache
        self._db = db

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
        denied_key = f"users-denied:{token.account_id}:{token.amo_user_id}"
        if await self._cache.get(denied_key):
            return names
        listed = await self._read_users(token)
        if listed is None:
            await self._cache.set(denied_key, True, USERS_TTL_SECONDS)
            return names
        await self._cache.set(
            f"users:{token.account_id}", {str(k): v for k, v in listed.items()}, USERS_TTL_SECONDS
        )
        return {**names, **listed}

    async def _read_users(self, token: UsableToken) -> dict[int, str] | None:
        """The account's users, or None when this amoCRM user may not read them."""
        found: dict[int, str] = {}
        try:
            for page in range(1, _MAX_USER_PAGES + 1):
                body: dict[str, Any] | None = await self._amo.get(
                    token, "/api/v4/users", {"page": page, "limit": 250}
                )
                for user in embedded(body, "users"):
                    user_id, name = as_int(user.get("id")), as_text(user.get("name"))
                    if user_id is not None and name:
                        found[user_id] = name
                if not has_next_page(body):
                    break
        except AmoForbidden:
            return None
        return found
