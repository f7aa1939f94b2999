"""Every request the emulator answered, with secrets masked, for tests to inspect."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

# Query parameters whose values never reach the log.
SECRET_PARAMS = frozenset(
    {
        "code",
        "client_secret",
        "refresh_token",
        "access_token",
        "token",
        "password",
        "signature",
        "state",
        "api_key",
        # A webhook destination often carries a secret path or query token.
        "filter[destination]",
    }
)
MASK = "***"
MAX_ENTRIES = 20_000


def mask_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, MASK if k.lower() in SECRET_PARAMS else v) for k, v in pairs])


@dataclass
class LoggedRequest:
    id: int
    ts: float
    host: str
    method: str
    path: str
    query: str
    grant_type: str | None
    status: int | None
    account_subdomain: str | None
    user_id: int | None
    duration_ms: float


class RequestLog:
    def __init__(self) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)
        self._next_id = 1

    def add(self, entry_without_id: dict[str, Any]) -> None:
        entry = LoggedRequest(id=self._next_id, **entry_without_id)
        self._next_id += 1
        self._entries.append(entry)

    def clear(self) -> None:
        self._entries.clear()

    def query(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        host: str | None = None,
        grant_type: str | None = None,
        since: int | None = None,
    ) -> list[dict[str, Any]]:
        out = []
        for entry in self._entries:
            if path is not None and entry.path != path:
                continue
            if method is not None and entry.method != method.upper():
                continue
            if host is not None and entry.host != host.lower():
                continue
            if grant_type is not None and entry.grant_type != grant_type:
                continue
            if since is not None and entry.id <= since:
                continue
            out.append(asdict(entry))
        return out
