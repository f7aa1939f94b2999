"""One emulator process for most tests (reset before each), fresh ones where flags differ."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from amocrm_emulator.testing import RunningEmulator, start_emulator

from scripts.harness_constants import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[RunningEmulator]:
    # No rate limit here: the limit has its own tests on their own emulators.
    with start_emulator(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=REDIRECT_URI,
        rate_limit=0,
    ) as emu:
        yield emu


@pytest.fixture
def emu(shared_emulator: RunningEmulator) -> RunningEmulator:
    shared_emulator.control.reset()
    return shared_emulator


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with emu.client(timeout=15.0) as http:
        yield http
