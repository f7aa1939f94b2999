"""The broker's own open tasks (overdue, today, the next 14 days), new tasks and completing one.

"Today" is the account's day (amoCRM's `datetime_settings.timezone`). Every call uses the
broker's own token; the board is cached per broker and retired by the broker's task writes and
by amoCRM's task changes (webhooks or the events poll).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foryou.clock import Clock
from foryou.crm.amo import CrmGateway
from foryou.crm.cache import CachedRead, CachedReads
from foryou.crm.catalog import CrmCatalog
from foryou.crm.domain import Broker, as_int, as_text, embedded, field_values, main_contact_id
from foryou.crm.edits import LeadEditor
from foryou.crm.submissions import SubmissionLedger, fingerprint
from foryou.errors import AppError
from foryou.integrations.amocrm.tokens import UsableToken

TaskType = Literal["call", "meeting", "other"]
# amoCRM's built-in task types: 1 is the call ("Звонок"/Follow-up), 2 the meeting.
TYPE_IDS: dict[str, int] = {"call": 1, "meeting": 2}
UPCOMING_DAYS = 14
# One read of amoCRM's page size bounds the board; each group shows at most this many.
TASKS_READ = 250
GROUP_LIMIT = 100
DEFAULT_TEXT: dict[str, dict[str, str]] = {
    "uk": {"call": "Зателефонувати клієнту", "meeting": "Зустріч"},
    "ru": {"call": "Позвонить клиенту", "meeting": "Встреча"},
    "en": {"call": "Call the client", "meeting": "Meeting"},
}


class TaskNotFound(AppError):
    status_code = 404
    code = "task_not_found"
    message = "The task does not exist or is not visible to you."


@dataclass(frozen=True)
class TaskLead:
    id: int
    name: str


@dataclass(frozen=True)
class TaskContact:
    name: str
    phone: str | None


@dataclass(frozen=True)
class Task:
    id: int
    text: str
    type: TaskType
    type_id: int | None
    type_name: str | None
    due_at: str | None
    is_completed: bool
    lead: TaskLead | None
    contact: TaskContact | None


@dataclass(frozen=True)
class TaskBoard:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]


@dataclass(frozen=True)
class AccountDay:
    """What the board needs of the account: its timezone and its task type names."""

    timezone: str
    offset: str | None
    type_names: dict[str, str]

    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        if self.offset and len(self.offset) == 6 and self.offset[0] in "+-":
            sign = 1 if self.offset[0] == "+" else -1
            hours, minutes = int(self.offset[1:3]), int(self.offset[4:6])
            return timezone(sign * timedelta(hours=hours, minutes=minutes))
        return UTC


def _task_from_json(item: dict[str, Any]) -> Task:
    lead, contact = item.get("lead"), item.get("contact")
    return Task(
        **{
            **item,
            "lead": TaskLead(**lead) if lead else None,
            "contact": TaskContact(**contact) if contact else None,
        }
    )


def _board_from_json(item: dict[str, Any]) -> TaskBoard:
    return TaskBoard(**{group: [_task_from_json(t) for t in item[group]] for group in item})


ACCOUNT_DAY = CachedRead[AccountDay](
    field="day",
    ttl_seconds=300.0,
    min_refresh_seconds=5.0,
    to_json=asdict,
    from_json=lambda item: AccountDay(**item),
    single_flight=True,
)
BOARD = CachedRead[TaskBoard](
    field="board",
    ttl_seconds=15.0,
    min_refresh_seconds=2.0,
    to_json=asdict,
    from_json=_board_from_json,
)


class TaskDesk:
    def __init__(
        self,
        gateway: CrmGateway,
        reads: CachedReads,
        catalog: CrmCatalog,
        editor: LeadEditor,
        ledger: SubmissionLedger,
        clock: Clock,
    ) -> None:
        self._amo = gateway
        self._reads = reads
        self._catalog = catalog
        self._editor = editor
        self._ledger = ledger
        self._clock = clock

    async def board(
        self, token: UsableToken, *, refresh: bool, ttl_seconds: float | None
    ) -> TaskBoard:
        generation = await self._catalog.tasks_generation(token)
        key = f"tasks:{token.account_id}:{token.amo_user_id}:{generation}"
        return await self._reads.read(
            BOARD, key, lambda: self._fetch_board(token), refresh=refresh, ttl_seconds=ttl_seconds
        )

    async def _account_day(self, token: UsableToken) -> AccountDay:
        async def fetch() -> AccountDay:
            body = await self._amo.get(
                token, "/api/v4/account", {"with": "datetime_settings,task_types"}
            )
            raw_settings = ((body or {}).get("_embedded") or {}).get("datetime_settings") or {}
            return AccountDay(
                timezone=as_text(raw_settings.get("timezone")) or "UTC",
                offset=as_text(raw_settings.get("timezone_offset")),
                type_names={
                    str(type_id): as_text(raw.get("name")) or ""
                    for raw in embedded(body, "task_types")
                    if (type_id := as_int(raw.get("id"))) is not None
                },
            )

        return await self._reads.read(ACCOUNT_DAY, f"account-day:{token.account_id}", fetch)

    async def _fetch_board(self, token: UsableToken) -> TaskBoard:
        day = await self._account_day(token)
        zone = day.zone()
        today = (
            self._clock.now().astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        )
        start, tomorrow = today.timestamp(), (today + timedelta(days=1)).timestamp()
        horizon = (today + timedelta(days=UPCOMING_DAYS + 1)).timestamp()
        now = self._clock.now().timestamp()
        body = await self._amo.get(
            token,
            "/api/v4/tasks",
            {
                "filter[responsible_user_id]": token.amo_user_id,
                "filter[is_completed]": 0,
                "order[complete_till]": "asc",
                "limit": TASKS_READ,
            },
        )
        raw_tasks = [
            raw
            for raw in embedded(body, "tasks")
            if as_int(raw.get("id")) is not None
            and as_int(raw.get("responsible_user_id")) == token.amo_user_id
            and not raw.get("is_completed")
        ]
        raw_tasks.sort(key=lambda raw: (as_int(raw.get("complete_till")) or 0, int(raw["id"])))
        groups: dict[str, list[dict[str, Any]]] = {"overdue": [], "today": [], "upcoming": []}
        for raw in raw_tasks:
            due = as_int(raw.get("complete_till")) or 0
            if due < now:
                group = "overdue"
            elif start <= due < tomorrow:
                group = "today"
            elif due < horizon:
                group = "upcoming"
            else:
                continue
            if len(groups[group]) < GROUP_LIMIT:
                groups[group].append(raw)
        shown = [raw for group in groups.values() for raw in group]
        tasks = {task.id: task for task in await self._decorate(token, day, shown)}
        return TaskBoard(
            **{name: [tasks[int(raw["id"])] for raw in group] for name, group in groups.items()}
        )

    async def _decorate(
        self, token: UsableToken, day: AccountDay, raw_tasks: list[dict[str, Any]]
    ) -> list[Task]:
        """Tasks with their lead's name and main contact (those the broker may see)."""
        lead_ids = sorted(
            {
                lead_id
                for raw in raw_tasks
                if raw.get("entity_type") == "leads"
                and (lead_id := as_int(raw.get("entity_id"))) is not None
            }
        )
        leads: dict[int, dict[str, Any]] = {}
        contacts: dict[int, dict[str, Any]] = {}
        if lead_ids:
            found = await self._amo.get(
                token,
                "/api/v4/leads",
                {"filter[id][]": lead_ids, "with": "contacts", "limit": min(250, len(lead_ids))},
            )
            leads = {
                int(raw["id"]): raw for raw in embedded(found, "leads") if as_int(raw.get("id"))
            }
            contact_ids = sorted({cid for raw in leads.values() if (cid := main_contact_id(raw))})
            if contact_ids:
                found_contacts = await self._amo.get(
                    token,
                    "/api/v4/contacts",
                    {"filter[id][]": contact_ids, "limit": min(250, len(contact_ids))},
                )
                contacts = {
                    int(c["id"]): c
                    for c in embedded(found_contacts, "contacts")
                    if as_int(c.get("id"))
                }
        return [_task(raw, day, leads, contacts) for raw in raw_tasks]

    async def create(
        self,
        token: UsableToken,
        broker: Broker,
        key: str,
        *,
        lead_id: int,
        task_type: str,
        text: str,
        due_at: datetime,
    ) -> tuple[Task, bool]:
        """A task on a lead for the broker, once per Idempotency-Key."""
        due = int(due_at.timestamp())
        type_id = TYPE_IDS[task_type]

        async def check() -> None:
            await self._editor.visible_lead(token, lead_id)

        async def send(request_id: str) -> int:
            body = {
                "text": text,
                "complete_till": due,
                "task_type_id": type_id,
                "entity_type": "leads",
                "entity_id": lead_id,
                "responsible_user_id": token.amo_user_id,
                "request_id": request_id,
            }
            return await self._amo.post(token, "/api/v4/tasks", [body])

        async def find() -> int | None:
            found = await self._amo.get(
                token,
                "/api/v4/tasks",
                {"filter[entity_type]": "leads", "filter[entity_id]": lead_id, "limit": 250},
            )
            for raw in embedded(found, "tasks"):
                if raw.get("text") == text and as_int(raw.get("complete_till")) == due:
                    return as_int(raw.get("id"))
            return None

        async def answer(task_id: int) -> dict[str, Any]:
            await self._catalog.forget_tasks(token.account_id, token.amo_user_id)
            return asdict(await self._read_task(token, task_id))

        request_hash = fingerprint(
            "task", {"lead_id": lead_id, "type": task_type, "text": text, "due": due}
        )
        result, replayed = await self._ledger.write_once(
            token,
            broker.user_id,
            key,
            request_hash,
            "task",
            check=check,
            send=send,
            find_existing=find,
            answer=answer,
        )
        return _task_from_json(result), replayed

    async def complete(self, token: UsableToken, task_id: int, result: str) -> Task:
        """Close the task with a result; an already closed task is answered without a write."""
        current = await self._read_task(token, task_id)
        if current.is_completed:
            return current
        await self._amo.patch(
            token, f"/api/v4/tasks/{task_id}", {"is_completed": True, "result": {"text": result}}
        )
        await self._catalog.forget_tasks(token.account_id, token.amo_user_id)
        return await self._read_task(token, task_id)

    async def _read_task(self, token: UsableToken, task_id: int) -> Task:
        raw = await self._amo.get(token, f"/api/v4/tasks/{task_id}")
        if raw is None or as_int(raw.get("id")) != task_id:
            raise TaskNotFound()
        (task,) = await self._decorate(token, await self._account_day(token), [raw])
        return task


def _task(
    raw: dict[str, Any],
    day: AccountDay,
    leads: dict[int, dict[str, Any]],
    contacts: dict[int, dict[str, Any]],
) -> Task:
    type_id = as_int(raw.get("task_type_id"))
    kind: TaskType = "call" if type_id == 1 else "meeting" if type_id == 2 else "other"
    due = as_int(raw.get("complete_till"))
    lead_raw = (
        leads.get(as_int(raw.get("entity_id")) or 0) if raw.get("entity_type") == "leads" else None
    )
    contact: TaskContact | None = None
    if lead_raw is not None:
        contact_raw = contacts.get(main_contact_id(lead_raw) or 0)
        if contact_raw is not None:
            phones = field_values(contact_raw, "PHONE")
            contact = TaskContact(
                name=as_text(contact_raw.get("name")) or "",
                phone=phones[0].value if phones else None,
            )
    return Task(
        id=int(raw["id"]),
        text=as_text(raw.get("text")) or "",
        type=kind,
        type_id=type_id,
        type_name=day.type_names.get(str(type_id)) if type_id is not None else None,
        due_at=datetime.fromtimestamp(due, UTC).isoformat() if due is not None else None,
        is_completed=raw.get("is_completed") is True,
        lead=TaskLead(id=int(lead_raw["id"]), name=as_text(lead_raw.get("name")) or "")
        if lead_raw is not None
        else None,
        contact=contact,
    )
