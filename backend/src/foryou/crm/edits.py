"""A broker's edits of a lead (stage, pipeline, price, name) and notes on it.

Both are sent with the broker's own token, so amoCRM's rights decide; a write retires
exactly the cached copies it changed (the broker's pages and the lead's details).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from foryou.clock import Clock
from foryou.crm.amo import CrmGateway
from foryou.crm.catalog import CrmCatalog
from foryou.crm.domain import Broker, as_int, embedded
from foryou.crm.submissions import SubmissionLedger, fingerprint
from foryou.errors import AppError
from foryou.integrations.amocrm.tokens import UsableToken


class LeadNotFound(AppError):
    status_code = 404
    code = "lead_not_found"
    message = "The lead does not exist or is not visible to you."


class StageNotAllowed(AppError):
    status_code = 422
    code = "stage_not_allowed"
    message = "A lead cannot be moved to this stage."


@dataclass(frozen=True)
class LeadChange:
    """What a broker changes on a lead (None: unchanged); at least one is set."""

    status_id: int | None = None
    pipeline_id: int | None = None
    price: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class NewNote:
    id: int
    text: str
    created_at: str
    created_by_id: int
    created_by_name: str | None


class LeadEditor:
    def __init__(
        self, gateway: CrmGateway, catalog: CrmCatalog, ledger: SubmissionLedger, clock: Clock
    ) -> None:
        self._amo = gateway
        self._catalog = catalog
        self._ledger = ledger
        self._clock = clock

    async def visible_lead(self, token: UsableToken, lead_id: int) -> dict[str, Any]:
        """The lead as amoCRM shows it to this broker (204 both when missing and hidden)."""
        raw = await self._amo.get(token, f"/api/v4/leads/{lead_id}")
        if raw is None or as_int(raw.get("id")) != lead_id:
            raise LeadNotFound()
        return raw

    async def update(self, token: UsableToken, lead_id: int, change: LeadChange) -> None:
        raw = await self.visible_lead(token, lead_id)
        body: dict[str, Any] = {}
        if change.status_id is not None or change.pipeline_id is not None:
            body.update(await self._stage_move(token, raw, change))
        if change.price is not None:
            body["price"] = change.price
        if change.name is not None:
            body["name"] = change.name
        await self._amo.patch(token, f"/api/v4/leads/{lead_id}", body)
        await self._catalog.forget_broker_pages(token)
        await self._catalog.forget_lead(token.account_id, lead_id)

    async def _stage_move(
        self, token: UsableToken, raw: dict[str, Any], change: LeadChange
    ) -> dict[str, int]:
        """Pipeline and stage, always both: stage ids 142/143 exist in every pipeline."""
        pipeline_id = change.pipeline_id or as_int(raw.get("pipeline_id"))
        pipelines = await self._catalog.pipelines(token)
        pipeline = next((p for p in pipelines if p.id == pipeline_id), None)
        stage = (
            next((s for s in pipeline.stages if s.id == change.status_id), None)
            if pipeline is not None and change.status_id is not None
            else None
        )
        if pipeline is None or stage is None or stage.is_unsorted:
            raise StageNotAllowed()
        return {"pipeline_id": pipeline.id, "status_id": stage.id}

    async def add_note(
        self, token: UsableToken, broker: Broker, lead_id: int, key: str, text: str
    ) -> tuple[NewNote, bool]:
        """A common note, once per Idempotency-Key; True when replaying the first result."""

        async def check() -> None:
            await self.visible_lead(token, lead_id)

        async def send(request_id: str) -> int:
            body = {"note_type": "common", "params": {"text": text}, "request_id": request_id}
            return await self._amo.post(token, f"/api/v4/leads/{lead_id}/notes", [body])

        async def find() -> int | None:
            found = await self._amo.get(
                token,
                f"/api/v4/leads/{lead_id}/notes",
                {"filter[note_type]": "common", "order[id]": "desc", "limit": 250},
            )
            for note in embedded(found, "notes"):
                params = note.get("params")
                if isinstance(params, dict) and params.get("text") == text:
                    return as_int(note.get("id"))
            return None

        async def answer(note_id: int) -> dict[str, Any]:
            await self._catalog.forget_lead(token.account_id, lead_id)
            return asdict(
                NewNote(
                    id=note_id,
                    text=text,
                    created_at=self._clock.now().isoformat(),
                    created_by_id=token.amo_user_id,
                    created_by_name=token.amo_user_name or broker.name,
                )
            )

        request_hash = fingerprint("note", {"lead_id": lead_id, "text": text})
        result, replayed = await self._ledger.write_once(
            token,
            broker.user_id,
            key,
            request_hash,
            "note",
            check=check,
            send=send,
            find_existing=find,
            answer=answer,
        )
        return NewNote(**result), replayed
