"""`make demo`: start the local stack and keep it running until Ctrl-C.

A small orchestrator of subprocesses: each service is started in order, its output is shown
with a prefix, the next one starts once it prints its ready line, and on Ctrl-C (or when any
service dies) every service is stopped in reverse order.

For now the stack is the amoCRM emulator with a demo integration registered.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

EMULATOR_HOST = "127.0.0.1"
EMULATOR_PORT = 8020
BACKEND_URL = "http://127.0.0.1:8000"
DEMO_CLIENT_ID = "6f1c2a4e-5b7d-4e3a-9c1f-2d8e7a6b5c40"
DEMO_REDIRECT_URI = f"{BACKEND_URL}/api/v1/integrations/amo-crm/oauth/callback"
READY_TIMEOUT_SECONDS = 60.0


@dataclass
class Service:
    name: str
    command: list[str]
    ready_line: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            self.command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            start_new_session=True,  # Ctrl-C reaches the orchestrator, which stops us in order
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            print(f"[{self.name}] {line.rstrip()}", flush=True)  # noqa: T201 - console output
            if self.ready_line in line:
                self.ready.set()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def services(client_secret: str) -> list[Service]:
    return [
        Service(
            name="amocrm",
            command=[
                sys.executable,
                "-m",
                "amocrm_emulator",
                "--host",
                EMULATOR_HOST,
                "--port",
                str(EMULATOR_PORT),
                "--control",
                "--client-id",
                DEMO_CLIENT_ID,
                "--client-secret",
                client_secret,
                "--redirect-uri",
                DEMO_REDIRECT_URI,
            ],
            ready_line="amocrm-emulator listening on",
        ),
    ]


def main() -> int:
    # A fresh secret every run: the demo integration exists only in this process tree.
    client_secret = secrets.token_urlsafe(32)
    stack = services(client_secret)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started: list[Service] = []
    try:
        for service in stack:
            service.start()
            started.append(service)
            deadline = time.monotonic() + READY_TIMEOUT_SECONDS
            while not service.ready.wait(0.1):
                if stopping.is_set():
                    return 0
                if not service.alive() or time.monotonic() > deadline:
                    print(f"demo: {service.name} did not start", file=sys.stderr)  # noqa: T201
                    return 1
        emulator_url = f"http://{EMULATOR_HOST}:{EMULATOR_PORT}"
        print(  # noqa: T201 - console output
            "\nForYou CRM Connect demo is running.\n"
            f"  amoCRM emulator:   {emulator_url}  (consent page: {emulator_url}/oauth"
            f"?client_id={DEMO_CLIENT_ID}&state=demo)\n"
            f"  integration:       client id {DEMO_CLIENT_ID}, Redirect URI {DEMO_REDIRECT_URI}\n"
            f"  request log:       {emulator_url}/_emulator/requests\n"
            "Sign in with the seeded amoCRM logins listed above. Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping.wait(0.5):
            dead = [s.name for s in started if not s.alive()]
            if dead:
                print(f"demo: {', '.join(dead)} stopped; shutting down", file=sys.stderr)  # noqa: T201
                return 1
        return 0
    finally:
        for service in reversed(started):
            service.stop()
        print("demo: stopped", flush=True)  # noqa: T201


if __name__ == "__main__":
    raise SystemExit(main())
