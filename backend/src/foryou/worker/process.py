"""`foryou worker`: the keep-alive worker as a process of its own, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from foryou.clock import Clock, SystemClock
from foryou.config import Settings
from foryou.logging import get_logger
from foryou.secrets_store import resolve_secrets
from foryou.services import build_services
from foryou.worker.keepalive import RunCounts

log = get_logger(__name__)


async def run_worker(settings: Settings, *, once: bool, clock: Clock | None = None) -> RunCounts:
    """Run until SIGTERM/SIGINT (or one run with `once`); returns the last run's counts."""
    services = build_services(settings, resolve_secrets(settings), clock or SystemClock())
    worker = services.keep_alive_worker(embedded=False)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    log.info("worker_started", interval_seconds=settings.worker_interval_seconds)
    try:
        if once:
            return await worker.run_once()
        await worker.run_forever()
        return RunCounts()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await services.aclose()
