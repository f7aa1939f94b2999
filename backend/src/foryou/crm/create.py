"""New leads: a contact, the lead linked to it, a note with the comment, a call task.

Each submission is keyed by the app's `Idempotency-Key` (per user). Every amoCRM id is stored
the moment amoCRM returns it, so a retry with the same key resumes after the last step known
to have succeeded. A step whose POST was sent but whose answer never arrived is looked up in
amoCRM before it is sent again, so a lost answer does not become a duplicate either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from foryou.clock import Clock
from foryou.crm.amo import CrmGateway
from foryou.crm.catalog import CrmCatalog
from foryou.crm.domain import Broker, as_int, as_text, embedded, field_values, main_contact_id
from foryou.crm.models import CrmLeadSubmission, SubmissionStatus
from foryou.crm.submissions import (
    IdempotencyInProgress,
    LostSubmission,
    SubmissionLedger,
    failure_headers,
)
from foryou.errors import AppError, InvalidRequest
from foryou.integrations.amocrm.errors import AmoCrmError, AmoUnauthorized, to_app_error
from foryou.integrations.amocrm.tokens import UsableToken
from foryou.logging import get_logger

log = get_logger(__name__)

CALL_TASK_TEXT = "Зателефонувати клієнту"
CALL_TASK_TYPE_ID = 1  # amoCRM's built-in "call" task type
CALL_TASK_DUE = timedelta(hours=1)
STEPS = ("contact", "lead", "note", "task")


@dataclass(frozen=True)
class NewLead:
    """A validated, normalised new-lead request."""

    pipeline_id: int
    stage_id: int
    name: str | None
    phone: str | None
    email: str | None
    price: int | None
    comment: str | None

    @property
    def title(self) -> str:
        return self.name or self.phone or self.email or ""

    def fingerprint(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedLead:
    lead_id: int
    contact_id: int
    note_id: int | None
    task_id: int
    pipeline_id: int
    stage_id: int
    name: str
    price: int | None
    phone: str | None
    email: str | None
    responsible_user_id: int
    responsible_user_name: str | None
    stage_name: str | None
    stage_color: str | None
    created_at: datetime


class AmoPartialFailure(AppError):
    status_code = 502
    code = "amo_partial_failure"
    message = (
        "amoCRM failed part-way through creating the lead; retry with the same "
        "Idempotency-Key to finish it."
    )


class LeadCreator:
    def __init__(
        self, ledger: SubmissionLedger, gateway: CrmGateway, catalog: CrmCatalog, clock: Clock
    ) -> None:
        self._ledger = ledger
        self._amo = gateway
        self._catalog = catalog
        self._clock = clock

    async def create(self, broker: Broker, key: str, request: NewLead) -> tuple[CreatedLead, bool]:
        """The created lead, and whether it is the stored result of an earlier request."""
        try:
            return await self._amo.as_broker(
                broker.user_id, lambda token: self._create(token, broker, key, request)
            )
        except AmoCrmError as error:
            raise to_app_error(error) from None

    async def _create(
        self, token: UsableToken, broker: Broker, key: str, request: NewLead
    ) -> tuple[CreatedLead, bool]:
        fingerprint = request.fingerprint()
        # A replay is answered from our record alone, without a call to amoCRM.
        earlier = await self._ledger.completed_answer(token, broker.user_id, key, fingerprint)
        if earlier is not None:
            return _created_from_json(earlier), True
        pipelines = await self._catalog.pipelines(token)
        pipeline = next((p for p in pipelines if p.id == request.pipeline_id), None)
        if pipeline is None or all(s.id != request.stage_id for s in pipeline.stages):
            field = "pipelineId" if pipeline is None else "stageId"
            raise InvalidRequest(details=[{"field": field, "message": "unknown in amoCRM"}])
        submission, owner = await self._ledger.claim(token, broker.user_id, key, fingerprint)
        if submission.status == SubmissionStatus.COMPLETED.value:
            assert submission.response_json is not None
            return _created_from_json(json.loads(submission.response_json)), True
        stage = next(s for s in pipeline.stages if s.id == request.stage_id)
        labels = {
            "responsible_user_name": token.amo_user_name or broker.name,
            "stage_name": stage.name,
            "stage_color": stage.color,
        }
        return await self._run_steps(token, submission, request, owner, labels), False

    # --- the steps ----------------------------------------------------------------------

    async def _run_steps(
        self,
        token: UsableToken,
        submission: CrmLeadSubmission,
        request: NewLead,
        owner: str,
        labels: dict[str, str | None],
    ) -> CreatedLead:
        steps: list[tuple[str, Callable[[], Awaitable[int | None]]]] = [
            ("contact", lambda: self._contact(token, submission, request)),
            ("lead", lambda: self._lead(token, submission, request)),
            ("note", lambda: self._note(token, submission, request)),
            ("task", lambda: self._task(token, submission)),
        ]
        for step, run in steps:
            if getattr(submission, f"{step}_id") is not None:
                continue
            if step == "note" and not request.comment:
                continue
            try:
                entity_id = await run()
            except AmoCrmError as error:
                await self._ledger.fail(submission, owner, step, error)
                if isinstance(error, AmoUnauthorized):
                    raise  # the token provider refreshes and runs the create again
                raise self._failure(submission, request, step, error) from None
            except LostSubmission:
                raise IdempotencyInProgress(headers={"Retry-After": "2"}) from None
            await self._ledger.record(
                submission, owner, **{f"{step}_id": entity_id}, attempted_step=None
            )
        assert submission.contact_id is not None
        assert submission.lead_id is not None
        assert submission.task_id is not None
        created = CreatedLead(
            lead_id=submission.lead_id,
            contact_id=submission.contact_id,
            note_id=submission.note_id,
            task_id=submission.task_id,
            pipeline_id=request.pipeline_id,
            stage_id=request.stage_id,
            name=request.title,
            price=request.price,
            phone=request.phone,
            email=request.email,
            responsible_user_id=token.amo_user_id,
            responsible_user_name=labels["responsible_user_name"],
            stage_name=labels["stage_name"],
            stage_color=labels["stage_color"],
            created_at=submission.created_at,
        )
        await self._ledger.complete(submission, owner, _created_to_json(created))
        await self._catalog.forget_broker_pages(token)
        log.info("crm_lead_created", lead_id=created.lead_id, contact_id=created.contact_id)
        return created

    async def _send_once(
        self,
        token: UsableToken,
        submission: CrmLeadSubmission,
        step: str,
        path: str,
        body: dict[str, Any],
        find_existing: Callable[[], Awaitable[int | None]],
    ) -> int:
        assert submission.lease_owner is not None
        return await self._ledger.send_once(
            submission,
            submission.lease_owner,
            step,
            lambda: self._amo.post(token, path, [body]),
            find_existing,
        )

    async def _contact(
        self, token: UsableToken, submission: CrmLeadSubmission, request: NewLead
    ) -> int:
        fields: list[dict[str, Any]] = []
        if request.phone:
            fields.append(
                {"field_code": "PHONE", "values": [{"value": request.phone, "enum_code": "MOB"}]}
            )
        if request.email:
            fields.append(
                {"field_code": "EMAIL", "values": [{"value": request.email, "enum_code": "WORK"}]}
            )
        body: dict[str, Any] = {
            "name": request.title,
            "responsible_user_id": token.amo_user_id,
            "request_id": f"{submission.id}:contact",
        }
        if fields:
            body["custom_fields_values"] = fields

        async def find() -> int | None:
            # A contact of ours has our exact name, data and no lead yet.
            found = await self._amo.get(
                token,
                "/api/v4/contacts",
                {
                    "query": request.phone or request.email or request.title,
                    "filter[responsible_user_id]": token.amo_user_id,
                    "with": "leads",
                    "order[id]": "desc",
                    "limit": 50,
                },
            )
            for contact in embedded(found, "contacts"):
                phones = [v.value for v in field_values(contact, "PHONE")]
                emails = [v.value for v in field_values(contact, "EMAIL")]
                if (
                    as_text(contact.get("name")) == request.title
                    and (request.phone is None or request.phone in phones)
                    and (request.email is None or request.email in emails)
                    and not embedded(contact, "leads")
                ):
                    return as_int(contact.get("id"))
            return None

        return await self._send_once(token, submission, "contact", "/api/v4/contacts", body, find)

    async def _lead(
        self, token: UsableToken, submission: CrmLeadSubmission, request: NewLead
    ) -> int:
        contact_id = submission.contact_id
        body: dict[str, Any] = {
            "name": request.title,
            "pipeline_id": request.pipeline_id,
            "status_id": request.stage_id,
            "responsible_user_id": token.amo_user_id,
            "_embedded": {"contacts": [{"id": contact_id}]},
            "request_id": f"{submission.id}:lead",
        }
        if request.price is not None:
            body["price"] = request.price

        async def find() -> int | None:
            # Our contact is new: any lead linked to it is the one we sent.
            found = await self._amo.get(
                token,
                "/api/v4/leads",
                {
                    "filter[responsible_user_id]": token.amo_user_id,
                    "filter[name]": request.title,
                    "with": "contacts",
                    "order[id]": "desc",
                    "limit": 50,
                },
            )
            for lead in embedded(found, "leads"):
                if main_contact_id(lead) == contact_id:
                    return as_int(lead.get("id"))
            return None

        return await self._send_once(token, submission, "lead", "/api/v4/leads", body, find)

    async def _note(
        self, token: UsableToken, submission: CrmLeadSubmission, request: NewLead
    ) -> int:
        lead_id = submission.lead_id
        body = {
            "entity_id": lead_id,
            "note_type": "common",
            "params": {"text": request.comment},
            "request_id": f"{submission.id}:note",
        }

        async def find() -> int | None:
            found = await self._amo.get(
                token,
                f"/api/v4/leads/{lead_id}/notes",
                {"filter[note_type]": "common", "limit": 250},
            )
            for note in embedded(found, "notes"):
                params = note.get("params")
                if isinstance(params, dict) and params.get("text") == request.comment:
                    return as_int(note.get("id"))
            return None

        return await self._send_once(token, submission, "note", "/api/v4/leads/notes", body, find)

    async def _task(self, token: UsableToken, submission: CrmLeadSubmission) -> int:
        lead_id = submission.lead_id
        due = self._clock.now() + CALL_TASK_DUE
        body = {
            "text": CALL_TASK_TEXT,
            "complete_till": int(due.timestamp()),
            "task_type_id": CALL_TASK_TYPE_ID,
            "entity_type": "leads",
            "entity_id": lead_id,
            "responsible_user_id": token.amo_user_id,
            "request_id": f"{submission.id}:task",
        }

        async def find() -> int | None:
            found = await self._amo.get(
                token,
                "/api/v4/tasks",
                {"filter[entity_type]": "leads", "filter[entity_id]": lead_id, "limit": 250},
            )
            for task in embedded(found, "tasks"):
                if task.get("text") == CALL_TASK_TEXT:
                    return as_int(task.get("id"))
            return None

        return await self._send_once(token, submission, "task", "/api/v4/tasks", body, find)

    # --- failures -----------------------------------------------------------------------

    @staticmethod
    def _failure(
        submission: CrmLeadSubmission, request: NewLead, failed: str, error: AmoCrmError
    ) -> AppError:
        upstream = to_app_error(error)
        details: list[dict[str, Any]] = []
        reached = False
        for step in STEPS:
            entity_id = getattr(submission, f"{step}_id")
            if step == failed:
                reached = True
                details.append({"step": step, "status": "failed", "error": upstream.code})
            elif entity_id is not None:
                details.append({"step": step, "status": "created", "id": entity_id})
            elif step == "note" and not request.comment:
                details.append({"step": step, "status": "skipped"})
            else:
                details.append({"step": step, "status": "pending" if reached else "failed"})
        headers = failure_headers(error, upstream)
        if submission.contact_id is None:
            # Nothing is known to exist in amoCRM yet: the upstream error itself, with the steps.
            upstream.details = details
            upstream.headers = headers
            return upstream
        return AmoPartialFailure(details=details, headers=headers)


def _created_to_json(created: CreatedLead) -> dict[str, Any]:
    data = asdict(created)
    data["created_at"] = created.created_at.isoformat()
    return data


def _created_from_json(data: dict[str, Any]) -> CreatedLead:
    return CreatedLead(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})
