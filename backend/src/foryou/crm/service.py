"""The broker's CRM data, read from amoCRM with the broker's own token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from foryou.integrations.amocrm.client import AmoCrmClient
from foryou.integrations.amocrm.errors import AmoBadResponse, AmoCrmError, to_app_error
from foryou.integrations.amocrm.tokens import TokenProvider, UsableToken

# amoCRM's fixed system stages: 142 "won", 143 "lost" in every pipeline.
_WON_STATUS_ID = 142
_LOST_STATUS_ID = 143


@dataclass(frozen=True)
class Stage:
    id: int
    name: str
    color: str | None
    sort: int
    type: str


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str
    sort: int
    is_main: bool
    stages: list[Stage]


@dataclass(frozen=True)
class LeadSummary:
    id: int
    name: str
    price: int | None
    stage_id: int | None
    pipeline_id: int | None
    responsible_user_id: int | None
    responsible_user_name: str | None
    contact_name: str | None
    contact_phone: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class LeadPage:
    items: list[LeadSummary]
    page: int
    has_more: bool


@dataclass(frozen=True)
class LeadQuery:
    pipeline_id: int | None = None
    stage_id: int | None = None
    query: str | None = None
    mine: bool = True
    page: int = 1
    limit: int = 25


def _embedded(body: dict[str, Any] | None, key: str) -> list[dict[str, Any]]:
    if body is None:
        return []
    items = body.get("_embedded", {}).get(key, [])
    if not isinstance(items, list):
        raise AmoBadResponse(f"unexpected {key} payload")
    return [item for item in items if isinstance(item, dict)]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _stage_type(status: dict[str, Any]) -> str:
    status_id = status.get("id")
    if status_id == _WON_STATUS_ID:
        return "won"
    if status_id == _LOST_STATUS_ID:
        return "lost"
    return "open"


def _phone(contact: dict[str, Any]) -> str | None:
    for field in contact.get("custom_fields_values") or []:
        if isinstance(field, dict) and field.get("field_code") == "PHONE":
            for value in field.get("values") or []:
                if isinstance(value, dict) and isinstance(value.get("value"), str):
                    return str(value["value"])
    return None


class CrmService:
    def __init__(self, tokens: TokenProvider, client: AmoCrmClient) -> None:
        self._tokens = tokens
        self._client = client

    async def pipelines(self, user_id: uuid.UUID) -> list[Pipeline]:
        async def read(token: UsableToken) -> dict[str, Any] | None:
            return await self._client.api_get(
                token.host,
                token.access_token,
                "/api/v4/leads/pipelines",
                account_id=token.account_id,
            )

        body = await self._run(user_id, read)
        pipelines = []
        for raw in _embedded(body, "pipelines"):
            stages = [
                Stage(
                    id=int(status["id"]),
                    name=str(status.get("name", "")),
                    color=status.get("color") if isinstance(status.get("color"), str) else None,
                    sort=_int(status.get("sort")) or 0,
                    type=_stage_type(status),
                )
                for status in _embedded(raw, "statuses")
                if _int(status.get("id")) is not None
            ]
            if _int(raw.get("id")) is None:
                continue
            pipelines.append(
                Pipeline(
                    id=int(raw["id"]),
                    name=str(raw.get("name", "")),
                    sort=_int(raw.get("sort")) or 0,
                    is_main=bool(raw.get("is_main", False)),
                    stages=sorted(stages, key=lambda stage: stage.sort),
                )
            )
        return sorted(pipelines, key=lambda pipeline: pipeline.sort)

    async def leads(self, user_id: uuid.UUID, query: LeadQuery) -> LeadPage:
        async def read(token: UsableToken) -> tuple[UsableToken, dict[str, Any] | None]:
            params: dict[str, Any] = {
                "page": query.page,
                "limit": query.limit,
                "with": "contacts",
                "order[updated_at]": "desc",
            }
            if query.query:
                params["query"] = query.query
            if query.mine:
                params["filter[responsible_user_id]"] = token.amo_user_id
            if query.pipeline_id is not None and query.stage_id is not None:
                params["filter[statuses][0][pipeline_id]"] = query.pipeline_id
                params["filter[statuses][0][status_id]"] = query.stage_id
            elif query.pipeline_id is not None:
                params["filter[pipeline_id]"] = query.pipeline_id
            body = await self._client.api_get(
                token.host,
                token.access_token,
                "/api/v4/leads",
                account_id=token.account_id,
                params=params,
            )
            return token, body

        token, body = await self._run(user_id, read)
        raw_leads = _embedded(body, "leads")
        contacts = await self._main_contacts(user_id, raw_leads)
        items = []
        for raw in raw_leads:
            lead_id = _int(raw.get("id"))
            if lead_id is None:
                continue
            responsible = _int(raw.get("responsible_user_id"))
            contact = contacts.get(lead_id)
            updated = _int(raw.get("updated_at"))
            items.append(
                LeadSummary(
                    id=lead_id,
                    name=str(raw.get("name") or ""),
                    price=_int(raw.get("price")),
                    stage_id=_int(raw.get("status_id")),
                    pipeline_id=_int(raw.get("pipeline_id")),
                    responsible_user_id=responsible,
                    responsible_user_name=(
                        token.amo_user_name if responsible == token.amo_user_id else None
                    ),
                    contact_name=contact.get("name") if contact else None,
                    contact_phone=_phone(contact) if contact else None,
                    updated_at=datetime.fromtimestamp(updated, UTC) if updated else None,
                )
            )
        has_more = bool(
            body and isinstance(body.get("_links"), dict) and body["_links"].get("next")
        )
        return LeadPage(items=items, page=query.page, has_more=has_more)

    async def _main_contacts(
        self, user_id: uuid.UUID, raw_leads: list[dict[str, Any]]
    ) -> dict[int, dict[str, Any]]:
        """The first contact of each lead, fetched in one request."""
        first_contact: dict[int, int] = {}
        for raw in raw_leads:
            linked = _embedded(raw, "contacts")
            main = next((c for c in linked if c.get("is_main")), linked[0] if linked else None)
            if main is not None and _int(main.get("id")) is not None and _int(raw.get("id")):
                first_contact[int(raw["id"])] = int(main["id"])
        if not first_contact:
            return {}
        ids = sorted(set(first_contact.values()))

        async def read(token: UsableToken) -> dict[str, Any] | None:
            return await self._client.api_get(
                token.host,
                token.access_token,
                "/api/v4/contacts",
                account_id=token.account_id,
                params={"filter[id][]": ids, "limit": min(250, len(ids))},
            )

        body = await self._run(user_id, read)
        by_id = {int(c["id"]): c for c in _embedded(body, "contacts") if _int(c.get("id"))}
        return {
            lead_id: by_id[contact_id]
            for lead_id, contact_id in first_contact.items()
            if contact_id in by_id
        }

    async def _run(self, user_id: uuid.UUID, operation: Any) -> Any:
        try:
            return await self._tokens.call(user_id, operation)
        except AmoCrmError as error:
            raise to_app_error(error) from None
