"""What every API v4 handler needs: the calling user, query parsing, paging, links."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.config import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from amocrm_emulator.core import Emulator
from amocrm_emulator.hosts import HostKind
from amocrm_emulator.http import (
    FieldError,
    context,
    hal,
    no_content,
    problem,
    read_json,
    unauthorized,
    validation_errors,
)
from amocrm_emulator.state.models import (
    Account,
    Contact,
    JSONDict,
    Lead,
    Membership,
    Task,
    User,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """The user behind the bearer token, in the account the request is addressed to."""

    emulator: Emulator
    account: Account
    user: User
    member: Membership
    client_id: str
    base_url: str

    @property
    def is_admin(self) -> bool:
        return self.member.role == "admin"

    def link(self, path: str, query: str = "") -> dict[str, dict[str, str]]:
        href = f"{self.base_url}{path}"
        return {"self": {"href": f"{href}?{query}" if query else href}}

    def can_see_lead(self, lead: Lead) -> bool:
        return (
            lead.account_id == self.account.id
            and not lead.is_deleted
            and self._sees(lead.responsible_user_id, lead.group_id)
        )

    def can_see_contact(self, contact: Contact) -> bool:
        return (
            contact.account_id == self.account.id
            and not contact.is_deleted
            and self._sees(contact.responsible_user_id, contact.group_id)
        )

    def can_see_task(self, task: Task) -> bool:
        return task.account_id == self.account.id and self._sees(
            task.responsible_user_id, task.group_id
        )

    def _sees(self, responsible_user_id: int, group_id: int) -> bool:
        # A user edits what they see: the seed gives every user one level (`rights[*].view`
        # equals `rights[*].edit` in `GET /api/v4/users`).
        if self.is_admin or self.member.leads_view == "all":
            return True
        if self.member.leads_view == "group":
            return group_id == self.member.group_id or responsible_user_id == self.user.id
        return responsible_user_id == self.user.id


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def base_url(request: Request) -> str:
    """Where links in answers point: the real account host, or the loopback address used."""
    target = context(request).target
    if target.kind is HostKind.LOOPBACK:
        return f"{request.url.scheme}://{request.headers.get('host', target.host)}"
    return f"https://{target.host}"


def authorize(request: Request) -> Caller | Response:
    """The caller, or the 401 amoCRM sends for a missing, unknown or expired token."""
    emulator = emulator_of(request)
    ctx = context(request)
    account = ctx.target.account
    if account is None:
        return problem(404, "Account not found")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return unauthorized(account.is_kommo)
    record = emulator.tokens.authenticate_bearer(token.strip(), account)
    if record is None:
        return unauthorized(account.is_kommo)
    user = emulator.state.users.get(record.user_id)
    member = emulator.state.membership(record.user_id, account.id)
    if user is None or member is None or not member.is_active:
        return unauthorized(account.is_kommo)
    ctx.user_id = user.id
    return Caller(emulator, account, user, member, record.client_id, base_url(request))


Endpoint = Callable[[Request], Awaitable[Response]]
CallerHandler = Callable[[Request, Caller], Awaitable[Response]]


def authenticated(handler: CallerHandler) -> Endpoint:
    """The route endpoint that runs `handler` only for a known caller.

    Everyone else gets the 404/401 `authorize` answers, before the handler reads anything.
    """

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        caller = authorize(request)
        if not isinstance(caller, Caller):
            return caller
        return await handler(request, caller)

    return endpoint


def forbidden() -> Response:
    return problem(403, "Не хватает прав")


class RightsRefused(Exception):
    """The caller's rights do not allow a write they asked for."""


def rights_refused(caller: Caller) -> Response:
    """The refusal of a write beyond the user's rights (switch `rights_refusal`)."""
    if caller.emulator.switches.rights_refusal == "403":
        return forbidden()
    # Seen on POST leads: legacy code 244, "no rights", in a plain 400.
    return problem(400, "Код ошибки 244. Недостаточно прав для выполнения действия")


class InvalidBody(Exception):
    """A body amoCRM rejects with its other 400 shape: `errors` keyed by entity id."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__(messages)
        self.messages = messages


def invalid_body(messages: dict[str, str]) -> Response:
    return problem(400, "Invalid request body", errors=messages)


# ---- query strings in PHP bracket notation --------------------------------------------------
def parse_brackets(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """`filter[statuses][0][status_id]=1` → `{"filter": {"statuses": {"0": {...}}}}`.

    `name[]=a&name[]=b` becomes a list. Conflicting shapes keep the last value.
    """
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        name, _, rest = raw_key.partition("[")
        keys = [name]
        if rest:
            keys.extend(part.rstrip("]") for part in ("[" + rest).split("[")[1:])
        node: dict[str, Any] = root
        for index, key in enumerate(keys):
            last = index == len(keys) - 1
            if last:
                node[key] = value
                break
            if keys[index + 1] == "" and index + 1 == len(keys) - 1:
                existing = node.get(key)
                if not isinstance(existing, list):
                    existing = node[key] = []
                existing.append(value)
                break
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
    return root


def as_list(value: Any) -> list[Any]:
    """A filter value as a list: `x`, `[x, y]` and `{"0": x, "1": y}` are all accepted."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [value]


def int_list(value: Any, path: str, errors: list[FieldError]) -> list[int]:
    out = []
    for item in as_list(value):
        parsed = to_int(item)
        if parsed is None:
            errors.append(FieldError("InvalidType", path, "Value must be an integer"))
        else:
            out.append(parsed)
    return out


def to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 19:
        return int(value.strip())
    return None


@dataclass(frozen=True)
class Paging:
    page: int
    limit: int


def read_paging(
    query: dict[str, Any], errors: list[FieldError], max_limit: int = MAX_PAGE_LIMIT
) -> Paging:
    page, limit = 1, DEFAULT_PAGE_LIMIT
    if "page" in query:
        parsed = to_int(query["page"])
        if parsed is None or parsed < 1:
            errors.append(FieldError("InvalidValue", "page", "Page must be a positive integer"))
        else:
            page = parsed
    if "limit" in query:
        parsed = to_int(query["limit"])
        if parsed is None or not 1 <= parsed <= max_limit:
            errors.append(
                FieldError("InvalidValue", "limit", f"Limit must be between 1 and {max_limit}")
            )
        else:
            limit = parsed
    return Paging(page, limit)


def since_filter(value: Any, path: str, errors: list[FieldError]) -> tuple[int | None, int | None]:
    """A time filter where a bare integer means "from then on" (tasks, notes, events)."""
    if isinstance(value, str) and "," in value:
        low_text, _, high_text = value.partition(",")
        low, high = to_int(low_text), to_int(high_text)
        if low is None or high is None:
            errors.append(FieldError("InvalidType", path, "from,to must be integers"))
        return low, high
    if isinstance(value, dict):
        return range_filter(value, path, errors)
    single = to_int(value)
    if single is None:
        errors.append(FieldError("InvalidType", path, "Expected {from, to} or an integer"))
    return single, None


def in_range(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def range_filter(value: Any, path: str, errors: list[FieldError]) -> tuple[int | None, int | None]:
    if isinstance(value, dict):
        low = to_int(value["from"]) if "from" in value else None
        high = to_int(value["to"]) if "to" in value else None
        if ("from" in value and low is None) or ("to" in value and high is None):
            errors.append(FieldError("InvalidType", path, "from/to must be integers"))
        return low, high
    single = to_int(value)
    if single is None:
        errors.append(FieldError("InvalidType", path, "Expected {from, to} or an integer"))
        return None, None
    return single, single


def page_of(items: list[T], paging: Paging) -> tuple[list[T], bool]:
    start = (paging.page - 1) * paging.limit
    chunk = items[start : start + paging.limit]
    return chunk, start + paging.limit < len(items)


def paged_answer(
    request: Request,
    caller: Caller,
    path: str,
    paging: Paging,
    key: str,
    items: list[T],
    to_json: Callable[[T], JSONDict],
) -> Response:
    """The requested page of `items` under `_embedded[key]`, or 204 when the page is empty."""
    chunk, has_next = page_of(items, paging)
    if not chunk:
        return no_content()
    return hal(
        {
            "_page": paging.page,
            "_links": page_links(request, caller, path, paging, has_next),
            "_embedded": {key: [to_json(item) for item in chunk]},
        }
    )


def page_links(
    request: Request, caller: Caller, path: str, paging: Paging, has_next: bool
) -> dict[str, dict[str, str]]:
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

    def href(page: int) -> dict[str, str]:
        query = urlencode([("page", str(page)), *pairs])
        return {"href": f"{caller.base_url}{path}?{query}"}

    links = {"self": href(paging.page)}
    if has_next:
        links["next"] = href(paging.page + 1)
    links["first"] = href(1)
    if paging.page > 1:
        links["prev"] = href(paging.page - 1)
    return links


def read_order(
    query: dict[str, Any], fields: Sequence[str], errors: list[FieldError]
) -> tuple[str, bool]:
    """`order[field]=asc|desc` as (field, descending); by id ascending when absent or invalid."""
    order = query.get("order")
    if order is None:
        return "id", False
    if not isinstance(order, dict) or len(order) != 1:
        errors.append(FieldError("InvalidValue", "order", "order[field]=asc|desc expected"))
        return "id", False
    ((name, direction),) = order.items()
    if name not in fields or direction not in ("asc", "desc"):
        choices = f"{', '.join(fields[:-1])} or {fields[-1]}"
        errors.append(
            FieldError("NotSupportedChoice", f"order.{name}", f"Sorting by {choices}, asc or desc")
        )
        return "id", False
    return name, direction == "desc"


def bad_query(errors: list[FieldError]) -> Response:
    return validation_errors({0: errors})


def with_values(query: dict[str, Any]) -> set[str]:
    raw = query.get("with")
    if not isinstance(raw, str):
        return set()
    return {part.strip() for part in raw.split(",") if part.strip()}


def query_dict(request: Request) -> dict[str, Any]:
    return parse_brackets(request.query_params.multi_items())


def field_value_texts(values: list[JSONDict] | None) -> list[str]:
    """Every value of a record's `custom_fields_values`, as text for `query=` search."""
    return [str(v.get("value", "")) for entry in values or [] for v in entry.get("values", [])]


def read_responsible(caller: Caller, item: dict[str, Any], errors: list[FieldError]) -> int:
    """`responsible_user_id` of a new record: an active member of the account, else the caller."""
    if "responsible_user_id" not in item:
        return caller.user.id
    wanted = to_int(item["responsible_user_id"])
    state = caller.emulator.state
    member = state.membership(wanted, caller.account.id) if wanted is not None else None
    if member is None or not member.is_active:
        errors.append(
            FieldError(
                "NotSupportedChoice",
                "responsible_user_id",
                "The user does not exist in the account",
            )
        )
        return caller.user.id
    return member.user_id


MAX_BATCH = 250


@dataclass(frozen=True)
class BatchItem(Generic[T]):
    """One valid record of an add-request, with the `request_id` the answer echoes."""

    index: int
    record: T
    request_id: str


async def read_body(request: Request, noun: str) -> Any:
    """The JSON body of a write, or the 400 problem for a body that is not JSON."""
    ok, body = await read_json(request)
    if not ok:
        return problem(400, f"Request body must be a JSON array of {noun}")
    return body


def batch_items(body: Any, noun: str) -> list[Any] | Response:
    """The items of a batch write (a JSON array, or one object), or the error answer."""
    items = body if isinstance(body, list) else [body]
    if not items:
        return validation_errors({0: [FieldError("InvalidType", "", f"No {noun} to add")]})
    if len(items) > MAX_BATCH:
        return problem(422, f"Limit {MAX_BATCH} per page")
    return items


def request_id_of(item: Any, index: int) -> str:
    request_id = item.get("request_id") if isinstance(item, dict) else None
    return str(request_id if request_id is not None else index)


def parse_batch(
    body: Any,
    noun: str,
    read_one: Callable[[Any, list[FieldError]], T | None],
) -> list[BatchItem[T]] | Response:
    """The records of an add-request, or the error answer.

    Nothing is added when any item is invalid: the answer lists the errors of every item.
    """
    items = batch_items(body, noun)
    if isinstance(items, Response):
        return items
    errors: dict[int, list[FieldError]] = {}
    parsed: list[BatchItem[T]] = []
    for index, item in enumerate(items):
        item_errors: list[FieldError] = []
        record = read_one(item, item_errors)
        if item_errors or record is None:
            errors[index] = item_errors
            continue
        parsed.append(BatchItem(index, record, request_id_of(item, index)))
    if errors:
        return validation_errors(errors)
    return parsed


@dataclass(frozen=True)
class Added:
    """What the answer to an add-request says of one stored record.

    `extra` holds the fields amoCRM lists between `id` and `request_id` (a note's `entity_id`).
    """

    id: int
    path: str
    extra: JSONDict = field(default_factory=dict)


async def create_batch(
    request: Request,
    caller: Caller,
    collection_path: str,
    key: str,
    read_one: Callable[[Any, list[FieldError]], T | None],
    add: Callable[[T], Added],
) -> Response:
    """Read an add-request, store every record with `add`, answer what was created."""
    body = await read_body(request, key)
    if isinstance(body, Response):
        return body
    return store_batch(caller, body, collection_path, key, read_one, add)


def store_batch(
    caller: Caller,
    body: Any,
    collection_path: str,
    key: str,
    read_one: Callable[[Any, list[FieldError]], T | None],
    add: Callable[[T], Added],
) -> Response:
    """Store every record of an add-request body with `add`, answer what was created.

    `add` gives the record its id and makes its side effects (events, hooks, `updated_at`);
    the answer lists each record under `_embedded[key]` with the `request_id` it came with.
    """
    batch = parse_batch(body, key, read_one)
    if isinstance(batch, Response):
        return batch
    created = []
    for new in batch:
        added = add(new.record)
        created.append(
            {
                "id": added.id,
                **added.extra,
                "request_id": new.request_id,
                "_links": caller.link(added.path),
            }
        )
    caller.emulator.changed()
    return hal({"_links": caller.link(collection_path), "_embedded": {key: created}})


@dataclass(frozen=True)
class PlannedEdit:
    """A checked edit of one record; `commit` applies it and returns the new `updated_at`."""

    id: int
    path: str
    commit: Callable[[], int]


PlanEdit = Callable[[Any, list[FieldError]], PlannedEdit | None]


def edit_batch(
    caller: Caller,
    body: Any,
    collection_path: str,
    key: str,
    plan_one: PlanEdit,
    *,
    path_id: int | None = None,
    echo_request_id: bool = False,
) -> Response:
    """Apply a `PATCH` body: an array of edits, or (with `path_id`) one object for that id.

    Every item is checked first and nothing changes unless all pass: an edit beyond the
    user's rights refuses the whole request, invalid items get the validation answer.
    The answer lists `{id, updated_at, [request_id,] _links}`; the by-id form is that bare
    object.
    """
    if path_id is not None:
        if not isinstance(body, dict):
            return validation_errors({0: [FieldError("InvalidType", "", "An object expected")]})
        body = {**body, "id": path_id}
    items = batch_items(body, key)
    if isinstance(items, Response):
        return items
    errors: dict[int, list[FieldError]] = {}
    planned: list[tuple[PlannedEdit, str]] = []
    try:
        for index, item in enumerate(items):
            item_errors: list[FieldError] = []
            plan = plan_one(item, item_errors)
            if item_errors or plan is None:
                errors[index] = item_errors
            else:
                planned.append((plan, request_id_of(item, index)))
    except RightsRefused:
        return rights_refused(caller)
    except InvalidBody as exc:
        return invalid_body(exc.messages)
    if errors:
        return validation_errors(errors)
    rows = []
    for plan, request_id in planned:
        row: JSONDict = {"id": plan.id, "updated_at": plan.commit()}
        if echo_request_id and path_id is None:
            row["request_id"] = request_id
        row["_links"] = caller.link(plan.path)
        rows.append(row)
    caller.emulator.changed()
    if path_id is not None:
        return hal(rows[0])
    return hal({"_links": caller.link(collection_path), "_embedded": {key: rows}})
