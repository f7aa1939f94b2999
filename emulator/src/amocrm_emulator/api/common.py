"""What every API v4 handler needs: the calling user, query parsing, paging, links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.config import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from amocrm_emulator.core import Emulator
from amocrm_emulator.hosts import HostKind
from amocrm_emulator.http import FieldError, context, problem, unauthorized, validation_errors
from amocrm_emulator.state.models import Account, Contact, Lead, Membership, User

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

    def _sees(self, responsible_user_id: int, group_id: int) -> bool:
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


def forbidden() -> Response:
    return problem(403, "Не хватает прав")


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


def bad_query(errors: list[FieldError]) -> Response:
    return validation_errors({0: errors})


def with_values(query: dict[str, Any]) -> set[str]:
    raw = query.get("with")
    if not isinstance(raw, str):
        return set()
    return {part.strip() for part in raw.split(",") if part.strip()}


def query_dict(request: Request) -> dict[str, Any]:
    return parse_brackets(request.query_params.multi_items())
