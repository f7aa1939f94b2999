"""The running emulator: state, clock, switches and the services built on them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from amocrm_emulator.clock import Clock
from amocrm_emulator.config import EmulatorOptions, IntegrationSpec
from amocrm_emulator.faults import FaultBook
from amocrm_emulator.oauth.tokens import TokenService
from amocrm_emulator.ratelimit import RateLimiter
from amocrm_emulator.requestlog import RequestLog
from amocrm_emulator.state.models import Integration
from amocrm_emulator.state.seed import DEFAULT_ACCOUNT_ID, build_seed_state
from amocrm_emulator.state.store import State, write_snapshot
from amocrm_emulator.webhooks.delivery import WebhookDispatcher

logger = logging.getLogger("amocrm_emulator")

SAVE_INTERVAL_SECONDS = 1.0


@dataclass
class ConsentSession:
    """A browser on the consent page: who signed in and the form's CSRF token."""

    user_id: int | None
    csrf: str


class Emulator:
    def __init__(self, options: EmulatorOptions) -> None:
        self.options = options
        self.switches = options.switches
        self._startup_switches = dataclasses.replace(options.switches)
        self.clock = Clock()
        self.default_account_id = DEFAULT_ACCOUNT_ID
        self.state = self._initial_state()
        self.tokens = TokenService(self.state, self.clock, self.switches)
        self.tokens.public_key_pem()  # create (or load) the signing key before serving
        self.requests = RequestLog()
        self.faults = FaultBook()
        self.limiter = RateLimiter(self.switches)
        self.webhooks = WebhookDispatcher(
            lambda: self.state, self.clock, self.switches, self.changed
        )
        # Browser sessions of the consent page, by cookie value.
        self.consent_sessions: dict[str, ConsentSession] = {}
        self._dirty = False
        self._saver: asyncio.Task[None] | None = None

    def _initial_state(self) -> State:
        path = self.options.state_file
        if path and Path(path).exists():
            state = State.load(path)
            logger.info("state loaded from %s", path)
        else:
            state = build_seed_state(self.options.seed, self.options.extra_brokers)
        for spec in self.options.integrations:
            self._put_integration(state, spec, from_flags=True)
        return state

    @staticmethod
    def _put_integration(state: State, spec: IntegrationSpec, *, from_flags: bool) -> Integration:
        integration = Integration(
            client_id=spec.client_id,
            client_secret=spec.client_secret,
            redirect_uri=spec.redirect_uri,
            disable_hook_url=spec.disable_hook_url,
            name=spec.name,
            from_flags=from_flags,
        )
        state.integrations[spec.client_id] = integration
        return integration

    def register_integration(self, spec: IntegrationSpec) -> Integration:
        integration = self._put_integration(self.state, spec, from_flags=False)
        self.changed()
        return integration

    def reset(self) -> None:
        """Back to the seed and the start-up switches; integrations from flags stay."""
        state = build_seed_state(self.options.seed, self.options.extra_brokers)
        state.signing_key_pem = self.state.signing_key_pem
        for spec in self.options.integrations:
            self._put_integration(state, spec, from_flags=True)
        self.state = state
        self.tokens.use_state(state)
        self.clock.set_offset(0.0)
        for item in dataclasses.fields(self.switches):
            setattr(self.switches, item.name, getattr(self._startup_switches, item.name))
        self.faults.clear()
        self.webhooks.clear()
        self.limiter.reset()
        self.consent_sessions.clear()
        self.requests.clear()
        self.changed()

    # ---- persistence -----------------------------------------------------------------------
    def changed(self) -> None:
        """Note that the state changed; with `--state-file` it is written shortly after."""
        self._dirty = True

    def save_now(self) -> None:
        if self.options.state_file and self._dirty:
            self._dirty = False
            self.state.save(self.options.state_file)

    async def _save_loop(self) -> None:
        path = self.options.state_file
        assert path is not None
        while True:
            await asyncio.sleep(SAVE_INTERVAL_SECONDS)
            if not self._dirty:
                continue
            self._dirty = False
            # The snapshot is taken on the event loop (consistent); encoding and writing it,
            # the slow part, happen in a thread so requests keep flowing meanwhile.
            snapshot = self.state.to_json()
            try:
                await asyncio.to_thread(write_snapshot, snapshot, path)
            except OSError:
                self._dirty = True
                logger.exception("could not write the state file")

    async def startup(self) -> None:
        await self.webhooks.start()
        if self.options.state_file:
            self._dirty = True
            self.save_now()
            self._saver = asyncio.create_task(self._save_loop())

    async def shutdown(self) -> None:
        await self.webhooks.stop()
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            # Written unconditionally: a periodic write cut short by the cancellation may not
            # have reached the disk.
            self._dirty = True
        self.save_now()
