"""The broker's CRM data, read from amoCRM with the broker's own token.

Upstream budget: pipelines and user names are kept per amoCRM account for minutes, list pages
and lead details per broker for seconds; a broker's creates retire their cached pages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal, TypeVar

from redis.asyncio import Redis

from foryou.agency.gateway import AccountGateway
from foryou.clock import Clock
from foryou.crm.activity import BrokerActivity
from foryou.crm.amo import CrmGateway
from foryou.crm.cache import CachedRead, CachedReads, build_cache
from foryou.crm.catalog import CrmCatalog
from foryou.crm.create import CreatedLead, LeadCreator, NewLead
from foryou.crm.domain import (
    AccountPipelines,
    Broker,
    ContactValue,
    CustomField,
    LeadContact,
    LeadDetail,
    LeadPage,
    LeadQuery,
    LeadSummary,
    Pipeline,
    Stage,
    Tag,
    TimelineEntry,
    as_int,
    as_text,
    embedded,
    field_values,
    has_next_page,
    main_contact_id,
    parse_contact,
    parse_custom_fields,
    parse_tags,
    timestamp,
)
from foryou.crm.edits import LeadChange, LeadEditor, NewNote
from foryou.crm.submissions import SubmissionLedger
from foryou.crm.tasks import Task, TaskBoard, TaskDesk
from foryou.crm.users import UserDirectory
from foryou.db import Database
from foryou.errors import InvalidRequest, NotFound
from foryou.integrations.amocrm.client import AmoCrmClient
from foryou.integrations.amocrm.errors import AmoCrmError, to_app_error
from foryou.integrations.amocrm.tokens import TokenProvider, UsableToken
from foryou.integrations.amocrm.transport import AmoCrmTransport
from foryou.languages import Language

T = TypeVar("T")
WarmOutcome = Literal["warmed", "busy", "unfollowed"]

# The timeline shows at most this many notes and events.
TIMELINE_LIMIT = 100


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _stage_index(pipelines: list[Pipeline]) -> dict[tuple[int, int], Stage]:
    return {(p.id, s.id): s for p in pipelines for s in p.stages}


class CrmService:
    def __init__(
        self,
        gateway: CrmGateway,
        reads: CachedReads,
        catalog: CrmCatalog,
        users: UserDirectory,
        creator: LeadCreator,
        editor: LeadEditor,
        tasks: TaskDesk,
        activity: BrokerActivity,
        followed_cache_seconds: float,
    ) -> None:
        self._activity = activity
        self._editor = editor
        self._tasks = tasks
        self._amo = gateway
        self._reads = reads
        self._catalog = catalog
        self._users = users
        self._creator = creator
        self._followed_cache_seconds = followed_cache_seconds

    async def cache_seconds(self, token: UsableToken) -> float | None:
        """How long copies of this account live: minutes while amoCRM's changes are followed
        (they retire what they touch), the kind's short default otherwise."""
        if await self._catalog.is_followed(token.account_id, token.amo_user_id):
            return self._followed_cache_seconds
        return None

    async def create_lead(
        self, broker: Broker, key: str, request: NewLead, *, language: Language
    ) -> tuple[CreatedLead, bool]:
        """Create a lead once per Idempotency-Key; True when replaying the first result."""
        return await self._creator.create(broker, key, request, language=language)

    @property
    def catalog(self) -> CrmCatalog:
        """The caches' generations, for whoever follows amoCRM's changes."""
        return self._catalog

    @property
    def gateway(self) -> CrmGateway:
        return self._amo

    @property
    def activity(self) -> BrokerActivity:
        """Who uses the CRM now, and who worked today."""
        return self._activity

    async def warm(self, broker: Broker) -> WarmOutcome:
        """Read what the app's first screens ask for (pipelines, the first page of the main
        pipeline's leads as the CRM tab asks for it, the task board) into the caches, so that
        the broker's first open is served without waiting for amoCRM.

        Only with budget nobody is waiting for: before each read the account's budget must be
        idle, else nothing more is read ("busy"). Only when the broker's copies are followed
        (they then live for minutes; a copy kept seconds is not worth a call made in advance).
        Copies already cached cost nothing, and warming is not the broker's own activity.
        """

        async def run(token: UsableToken) -> WarmOutcome:
            ttl = await self.cache_seconds(token)
            if ttl is None:
                return "unfollowed"

            async def first_page() -> None:
                # The pipelines are cached by the read before this one.
                pipelines = await self._catalog.pipelines(token)
                first = pipelines[0] if pipelines else None
                main = next((p for p in pipelines if p.is_main), first)
                if main is not None:
                    await self._leads(token, broker, LeadQuery(pipeline_id=main.id), refresh=False)

            reads: list[Callable[[], Awaitable[object]]] = [
                lambda: self._catalog.pipelines(token),
                lambda: self._catalog.currency(token),
                first_page,
                lambda: self._tasks.board(token, refresh=False, ttl_seconds=ttl),
            ]
            for read in reads:
                if not await self._amo.wait_idle(token):
                    return "busy"
                await read()
            return "warmed"

        return await self._call(broker, run, by_broker=False)

    # --- edits and notes --------------------------------------------------------------

    async def update_lead(self, broker: Broker, lead_id: int, change: LeadChange) -> LeadDetail:
        """Apply the change as the broker, then the lead as amoCRM now shows it to them."""

        async def run(token: UsableToken) -> None:
            await self._editor.update(token, lead_id, change)

        await self._call(broker, run)
        return await self.lead(broker, lead_id, refresh=True)

    async def add_note(
        self, broker: Broker, lead_id: int, key: str, text: str
    ) -> tuple[NewNote, bool]:
        return await self._call(
            broker, lambda token: self._editor.add_note(token, broker, lead_id, key, text)
        )

    # --- tasks ------------------------------------------------------------------------

    async def task_board(self, broker: Broker, *, refresh: bool = False) -> TaskBoard:
        async def run(token: UsableToken) -> TaskBoard:
            return await self._tasks.board(
                token, refresh=refresh, ttl_seconds=await self.cache_seconds(token)
            )

        return await self._call(broker, run)

    async def create_task(
        self,
        broker: Broker,
        key: str,
        *,
        lead_id: int,
        task_type: str,
        text: str,
        due_at: datetime,
    ) -> tuple[Task, bool]:
        return await self._call(
            broker,
            lambda token: self._tasks.create(
                token, broker, key, lead_id=lead_id, task_type=task_type, text=text, due_at=due_at
            ),
        )

    async def complete_task(self, broker: Broker, task_id: int, result: str) -> Task:
        return await self._call(broker, lambda token: self._tasks.complete(token, task_id, result))

    # --- pipelines --------------------------------------------------------------------

    async def pipelines(self, broker: Broker, *, refresh: bool = False) -> AccountPipelines:
        """The account's pipelines, with the currency its prices are in."""

        async def run(token: UsableToken) -> AccountPipelines:
            pipelines, currency = await asyncio.gather(
                self._catalog.pipelines(token, refresh=refresh),
                self._catalog.currency(token, refresh=refresh),
            )
            return AccountPipelines(pipelines=pipelines, currency=currency)

        return await self._call(broker, run)

    # --- lead list --------------------------------------------------------------------

    async def leads(self, broker: Broker, query: LeadQuery, *, refresh: bool = False) -> LeadPage:
        return await self._call(
            broker, lambda token: self._leads(token, broker, query, refresh=refresh)
        )

    async def _leads(
        self, token: UsableToken, broker: Broker, query: LeadQuery, *, refresh: bool
    ) -> LeadPage:
        pipelines = await self._catalog.pipelines(token)
        resolved = self._resolve_pipeline(query, pipelines)
        generation = await self._catalog.pages_generation(token, mine=resolved.mine)
        key = f"leads:{token.account_id}:{token.amo_user_id}:{generation}:" + _digest(
            asdict(resolved)
        )
        return await self._reads.read(
            LEAD_PAGE,
            key,
            lambda: self._fetch_leads(token, broker, resolved, pipelines),
            refresh=refresh,
            ttl_seconds=await self.cache_seconds(token),
        )

    @staticmethod
    def _resolve_pipeline(query: LeadQuery, pipelines: list[Pipeline]) -> LeadQuery:
        """A stage filter needs its pipeline (amoCRM filters by the pair); find it if unique."""
        if query.stage_id is None or query.pipeline_id is not None:
            return query
        owners = [p.id for p in pipelines if any(s.id == query.stage_id for s in p.stages)]
        if len(owners) != 1:
            raise InvalidRequest(
                details=[
                    {
                        "field": "pipelineId",
                        "message": "pipelineId is required with this stageId",
                    }
                ]
            )
        return LeadQuery(**{**asdict(query), "pipeline_id": owners[0]})

    async def _fetch_leads(
        self, token: UsableToken, broker: Broker, query: LeadQuery, pipelines: list[Pipeline]
    ) -> LeadPage:
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
        body = await self._amo.get(token, "/api/v4/leads", params)
        raw_leads = [raw for raw in embedded(body, "leads") if as_int(raw.get("id")) is not None]
        main_ids = {int(raw["id"]): main_contact_id(raw) for raw in raw_leads}
        contacts = await self._contacts(token, [cid for cid in main_ids.values() if cid])
        names = await self._users.names(
            token,
            broker.name,
            {rid for raw in raw_leads if (rid := as_int(raw.get("responsible_user_id")))},
        )
        stages = _stage_index(pipelines)
        items = []
        for raw in raw_leads:
            contact_id = main_ids[int(raw["id"])]
            contact = contacts.get(contact_id) if contact_id else None
            phones = field_values(contact, "PHONE") if contact else []
            items.append(
                _summary(
                    raw,
                    stages,
                    names,
                    contact_name=as_text(contact.get("name")) if contact else None,
                    contact_phone=phones[0].value if phones else None,
                )
            )
        await self._catalog.remember_seen(token, [item.id for item in items])
        return LeadPage(
            items=items, page=query.page, limit=query.limit, has_more=has_next_page(body)
        )

    async def _contacts(self, token: UsableToken, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Contacts by id in one request (those the broker may see)."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        body = await self._amo.get(
            token, "/api/v4/contacts", {"filter[id][]": wanted, "limit": min(250, len(wanted))}
        )
        return {int(c["id"]): c for c in embedded(body, "contacts") if as_int(c.get("id"))}

    # --- lead detail ------------------------------------------------------------------

    async def lead(self, broker: Broker, lead_id: int, *, refresh: bool = False) -> LeadDetail:
        async def run(token: UsableToken) -> LeadDetail:
            generation = await self._catalog.lead_generation(token, lead_id)
            key = f"lead:{token.account_id}:{token.amo_user_id}:{generation}:{lead_id}"
            return await self._reads.read(
                LEAD_DETAIL,
                key,
                lambda: self._fetch_lead(token, broker, lead_id),
                refresh=refresh,
                ttl_seconds=await self.cache_seconds(token),
            )

        return await self._call(broker, run)

    async def _fetch_lead(self, token: UsableToken, broker: Broker, lead_id: int) -> LeadDetail:
        raw = await self._amo.get(token, f"/api/v4/leads/{lead_id}", {"with": "contacts"})
        if raw is None or as_int(raw.get("id")) != lead_id:
            # amoCRM answers 204 both for a missing lead and for one hidden from this user.
            raise NotFound("The lead does not exist or is not visible to you.")
        linked = embedded(raw, "contacts")
        main_id = main_contact_id(raw)
        contact_ids = [cid for c in linked if (cid := as_int(c.get("id")))]
        pipelines, contacts_by_id, notes, events = await asyncio.gather(
            self._catalog.pipelines(token),
            self._contacts(token, contact_ids),
            self._amo.get(token, f"/api/v4/leads/{lead_id}/notes", {"limit": 250}),
            self._amo.get(
                token,
                "/api/v4/events",
                {"filter[entity]": "lead", "filter[entity_id]": lead_id, "limit": TIMELINE_LIMIT},
            ),
        )
        contacts: list[LeadContact] = []
        for contact_id in contact_ids:
            if contact_id in contacts_by_id:
                parsed = parse_contact(contacts_by_id[contact_id], is_main=contact_id == main_id)
                if parsed is not None:
                    contacts.append(parsed)
        contacts.sort(key=lambda contact: not contact.is_main)
        raw_notes = embedded(notes, "notes")
        raw_events = embedded(events, "events")
        people = {rid for rid in (as_int(raw.get("responsible_user_id")),) if rid}
        people |= {
            uid for item in raw_notes + raw_events if (uid := as_int(item.get("created_by")))
        }
        names = await self._users.names(token, broker.name, people)
        stages = _stage_index(pipelines)
        main = next((c for c in contacts if c.is_main), None)
        summary = _summary(
            raw,
            stages,
            names,
            contact_name=main.name if main else None,
            contact_phone=main.phones[0].value if main and main.phones else None,
        )
        pipeline = next((p for p in pipelines if p.id == summary.pipeline_id), None)
        await self._catalog.remember_seen(token, [lead_id])
        return LeadDetail(
            summary=summary,
            pipeline_name=pipeline.name if pipeline else None,
            created_at=timestamp(raw.get("created_at")),
            closed_at=timestamp(raw.get("closed_at")),
            contacts=contacts,
            custom_fields=parse_custom_fields(raw),
            tags=parse_tags(raw),
            timeline=_timeline(raw_notes, raw_events, names, stages),
        )

    async def _call(
        self,
        broker: Broker,
        operation: Callable[[UsableToken], Awaitable[T]],
        *,
        by_broker: bool = True,
    ) -> T:
        """Run `operation` with the broker's token; `by_broker`: the broker asked for it (their
        activity is noted), rather than the worker on their behalf."""

        async def run(token: UsableToken) -> T:
            if by_broker:
                await self._activity.seen(token)
            return await operation(token)

        try:
            return await self._amo.as_broker(broker.user_id, run)
        except AmoCrmError as error:
            raise to_app_error(error) from None


# --- building results -------------------------------------------------------------------


def _summary(
    raw: dict[str, Any],
    stages: dict[tuple[int, int], Stage],
    names: dict[int, str],
    *,
    contact_name: str | None,
    contact_phone: str | None,
) -> LeadSummary:
    pipeline_id = as_int(raw.get("pipeline_id"))
    stage_id = as_int(raw.get("status_id"))
    stage = stages.get((pipeline_id, stage_id)) if pipeline_id and stage_id else None
    responsible = as_int(raw.get("responsible_user_id"))
    return LeadSummary(
        id=int(raw["id"]),
        name=as_text(raw.get("name")) or "",
        price=as_int(raw.get("price")),
        stage_id=stage_id,
        pipeline_id=pipeline_id,
        stage_name=stage.name if stage else None,
        stage_color=stage.color if stage else None,
        responsible_user_id=responsible,
        responsible_user_name=names.get(responsible) if responsible else None,
        contact_name=contact_name,
        contact_phone=contact_phone,
        updated_at=timestamp(raw.get("updated_at")),
    )


_NOTE_TEXT_PARAMS = ("text", "service", "phone")


def _timeline(
    notes: list[dict[str, Any]],
    events: list[dict[str, Any]],
    names: dict[int, str],
    stages: dict[tuple[int, int], Stage],
) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    note_ids: set[int] = set()
    for note in notes:
        note_id = as_int(note.get("id"))
        if note_id is None:
            continue
        note_ids.add(note_id)
        raw_params = note.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        text = next((params[k] for k in _NOTE_TEXT_PARAMS if isinstance(params.get(k), str)), None)
        author = as_int(note.get("created_by"))
        entries.append(
            TimelineEntry(
                id=f"note:{note_id}",
                kind="note",
                type=as_text(note.get("note_type")) or "common",
                text=text,
                created_at=timestamp(note.get("created_at")),
                created_by=author,
                created_by_name=names.get(author) if author else None,
            )
        )
    for event in events:
        event_type = as_text(event.get("type")) or ""
        if _event_of_listed_note(event, note_ids):
            continue  # the note itself is already on the timeline
        author = as_int(event.get("created_by"))
        entries.append(
            TimelineEntry(
                id=f"event:{event.get('id')}",
                kind="event",
                type=event_type,
                text=None,
                created_at=timestamp(event.get("created_at")),
                created_by=author,
                created_by_name=names.get(author) if author else None,
                details=_event_details(event, stages),
            )
        )
    entries.sort(
        key=lambda entry: (entry.created_at.timestamp() if entry.created_at else 0, entry.id),
        reverse=True,
    )
    return entries[:TIMELINE_LIMIT]


def _event_of_listed_note(event: dict[str, Any], note_ids: set[int]) -> bool:
    for value in event.get("value_after") or []:
        note = value.get("note") if isinstance(value, dict) else None
        if isinstance(note, dict) and as_int(note.get("id")) in note_ids:
            return True
    return False


def _event_details(event: dict[str, Any], stages: dict[tuple[int, int], Stage]) -> dict[str, Any]:
    """Stage moves carry the stages' names and colours; other events no extra fields."""
    if event.get("type") != "lead_status_changed":
        return {}
    details: dict[str, Any] = {}
    for side, raw_values in (("from", event.get("value_before")), ("to", event.get("value_after"))):
        for value in raw_values or []:
            status = value.get("lead_status") if isinstance(value, dict) else None
            if not isinstance(status, dict):
                continue
            pipeline_id, stage_id = as_int(status.get("pipeline_id")), as_int(status.get("id"))
            stage = stages.get((pipeline_id, stage_id)) if pipeline_id and stage_id else None
            details[f"{side}StageId"] = stage_id
            details[f"{side}StageName"] = stage.name if stage else None
            details[f"{side}StageColor"] = stage.color if stage else None
    return details


# --- cached JSON back to results --------------------------------------------------------


def _summary_from_json(item: dict[str, Any]) -> LeadSummary:
    updated = item.get("updated_at")
    return LeadSummary(
        **{**item, "updated_at": _parse_time(updated)},
    )


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _page_from_json(item: dict[str, Any]) -> LeadPage:
    return LeadPage(**{**item, "items": [_summary_from_json(lead) for lead in item["items"]]})


def _detail_from_json(item: dict[str, Any]) -> LeadDetail:
    return LeadDetail(
        summary=_summary_from_json(item["summary"]),
        pipeline_name=item["pipeline_name"],
        created_at=_parse_time(item["created_at"]),
        closed_at=_parse_time(item["closed_at"]),
        contacts=[
            LeadContact(
                **{
                    **c,
                    "phones": [ContactValue(**v) for v in c["phones"]],
                    "emails": [ContactValue(**v) for v in c["emails"]],
                }
            )
            for c in item["contacts"]
        ],
        custom_fields=[CustomField(**f) for f in item["custom_fields"]],
        tags=[Tag(**t) for t in item["tags"]],
        timeline=[
            TimelineEntry(**{**t, "created_at": _parse_time(t["created_at"])})
            for t in item["timeline"]
        ],
    )


# Lists and details are kept per broker for seconds; their cache keys carry the broker's
# generation, so the broker's own creates retire them at once.
LEAD_PAGE = CachedRead[LeadPage](
    field="page",
    ttl_seconds=15.0,
    min_refresh_seconds=2.0,
    to_json=asdict,
    from_json=_page_from_json,
)
LEAD_DETAIL = CachedRead[LeadDetail](
    field="lead",
    ttl_seconds=15.0,
    min_refresh_seconds=2.0,
    to_json=asdict,
    from_json=_detail_from_json,
)


def build_crm_service(
    *,
    tokens: TokenProvider,
    client: AmoCrmClient,
    transport: AmoCrmTransport,
    db: Database,
    clock: Clock,
    redis: Redis | None,
    redis_prefix: str,
    followed_cache_seconds: float,
    agency: AccountGateway | None = None,
) -> CrmService:
    """The CRM feature wired to the shared token provider, amoCRM client and Redis."""
    gateway = CrmGateway(tokens, client, transport)
    cache = build_cache(redis, redis_prefix, clock)
    reads = CachedReads(cache, clock)
    catalog = CrmCatalog(gateway, cache, reads)
    ledger = SubmissionLedger(db, clock)
    activity = BrokerActivity(db, cache, clock)
    editor = LeadEditor(gateway, catalog, ledger, clock)
    return CrmService(
        gateway,
        reads,
        catalog,
        UserDirectory(gateway, cache, db, agency),
        LeadCreator(ledger, gateway, catalog, clock),
        editor,
        TaskDesk(gateway, reads, catalog, editor, ledger, clock),
        activity,
        followed_cache_seconds,
    )
