"""The emulator's notion of "now": real time plus an offset that tests can move."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds shifted by a controllable offset.

    Codes and tokens age by this clock, so a test can move it forward by a day instead of
    waiting a day. Rate limiting uses real monotonic time and ignores the offset.
    """

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    def now_int(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set_offset(self, seconds: float) -> None:
        self.offset = seconds
