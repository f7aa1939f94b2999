"""Injected failures: the next N matching requests fail, stall or lose their connection."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from amocrm_emulator.http import FieldError


@dataclass
class FaultRule:
    path: str  # exact path, or a prefix ending in "*"
    method: str | None = None
    host: str | None = None
    count: int = 1
    status: int | None = None
    delay: float | None = None
    drop: bool = False
    # Handle the request fully (tokens rotate, leads are written) and only then fail it.
    after_processing: bool = False

    def matches(self, method: str, host: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.host is not None and self.host.lower() != host:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(data: Any) -> tuple[FaultRule | None, list[FieldError]]:
    """Validate a `POST /_emulator/faults` body."""
    errors: list[FieldError] = []
    if not isinstance(data, dict):
        return None, [FieldError("InvalidType", "", "a JSON object is expected")]
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        errors.append(FieldError("InvalidValue", "path", "an absolute path is required"))
    method = data.get("method")
    if method is not None and not isinstance(method, str):
        errors.append(FieldError("InvalidType", "method", "a string or null"))
    host = data.get("host")
    if host is not None and not isinstance(host, str):
        errors.append(FieldError("InvalidType", "host", "a string or null"))
    count = data.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        errors.append(FieldError("InvalidValue", "count", "a positive integer"))
    status = data.get("status")
    if status is not None and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        errors.append(FieldError("InvalidValue", "status", "an HTTP status or null"))
    delay = data.get("delay")
    if delay is not None and (
        not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 600
    ):
        errors.append(FieldError("InvalidValue", "delay", "seconds between 0 and 600, or null"))
    drop = data.get("drop", False)
    after = data.get("after_processing", False)
    if not isinstance(drop, bool):
        errors.append(FieldError("InvalidType", "drop", "a boolean"))
    if not isinstance(after, bool):
        errors.append(FieldError("InvalidType", "after_processing", "a boolean"))
    if not errors and status is None and delay is None and not drop:
        errors.append(FieldError("InvalidValue", "", "set status, delay or drop"))
    if errors:
        return None, errors
    assert isinstance(path, str)
    return FaultRule(
        path=path,
        method=method,
        host=host,
        count=count,
        status=status,
        delay=float(delay) if delay is not None else None,
        drop=drop,
        after_processing=after,
    ), []


class FaultBook:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def take(self, method: str, host: str, path: str) -> FaultRule | None:
        """The first rule matching the request, counted down by one."""
        for rule in self.rules:
            if rule.matches(method, host, path):
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                return rule
        return None
