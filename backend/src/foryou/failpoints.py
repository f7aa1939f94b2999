"""Failpoints, for crash-safety tests only (the token refresh is where they are hit).

A core module like the clock: settings check the specification at start-up, the amoCRM
token provider hits the points; nothing here knows about either.

Enabled only by `FORYOU_TEST_FAILPOINTS` (refused on an https deployment); without it every
`hit()` is a no-op. The value is a comma-separated list of `name:action[:arg]`:

* `after_token_response_before_commit:kill` — the process exits at once (`os._exit`) after
  amoCRM answered a refresh and before the new pair is written: the rotation is lost.
* `commit:fail[:N]` — the next N writes of a refreshed pair fail (default 1).
* `before_token_request:sleep:S` — pause S seconds while holding the lease, before calling
  amoCRM (a process that stalls past its lease).
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

NAMES = ("after_token_response_before_commit", "commit", "before_token_request")
ACTIONS = ("kill", "fail", "sleep")
KILL_EXIT_CODE = 137


class FailpointError(ValueError):
    """A failpoint specification that cannot be used."""


class InjectedCommitFailure(OperationalError):
    """The failure a `commit:fail` failpoint raises: what a lost database looks like."""

    def __init__(self) -> None:
        super().__init__("injected commit failure", None, Exception("failpoint"))


@dataclass
class _Failpoint:
    action: str
    remaining: int
    seconds: float


def parse_failpoints(raw: str) -> dict[str, _Failpoint]:
    points: dict[str, _Failpoint] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        name, _, rest = item.partition(":")
        action, _, arg = rest.partition(":")
        if name not in NAMES:
            raise FailpointError(f"unknown failpoint {name!r} (known: {', '.join(NAMES)})")
        if action not in ACTIONS:
            raise FailpointError(f"unknown failpoint action {action!r} (use kill, fail, sleep)")
        try:
            number = float(arg) if arg else 1.0
        except ValueError:
            raise FailpointError(f"failpoint {name}: {arg!r} is not a number") from None
        if number <= 0:
            raise FailpointError(f"failpoint {name}: the argument must be positive")
        points[name] = _Failpoint(action, int(number) if action == "fail" else 1, number)
    return points


class Failpoints:
    """The configured failpoints of this process (none in production)."""

    def __init__(self, raw: str | None) -> None:
        self._points = parse_failpoints(raw) if raw else {}

    @property
    def enabled(self) -> bool:
        return bool(self._points)

    async def hit(self, name: str) -> None:
        point = self._points.get(name)
        if point is None:
            return
        if point.action == "kill":
            sys.stderr.write(f"failpoint {name}: killing the process\n")
            sys.stderr.flush()
            os._exit(KILL_EXIT_CODE)
        if point.action == "sleep":
            await asyncio.sleep(point.seconds)
            return
        if point.remaining > 0:
            point.remaining -= 1
            raise InjectedCommitFailure()
