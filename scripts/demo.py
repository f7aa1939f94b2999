"""`make demo`: the whole product on this machine, until Ctrl-C.

It checks first that no other demo runs on this checkout and that every port is free (naming
the busy one with the override to use: `make demo BACKEND_PORT=8100`, `EMULATOR_PORT=…`,
`APP_PORT=…`). Then it starts:
  1. the amoCRM emulator on 127.0.0.1:8020 with a demo integration registered,
  2. the backend on 127.0.0.1:8000 (SQLite) with its keep-alive worker embedded
     (FORYOU_EMBEDDED_WORKER); on the first run it creates the demo app users,
  3. the app's web build (exported from mobile/, again only when its sources changed) on
     127.0.0.1:8081, served by the same SPA server the browser end-to-end tests use.
State is kept in data/demo/ between runs (see scripts/demo_state.py); `--reset`
(`make demo-reset`) starts from scratch. Each part's output goes to data/demo/logs/; the
terminal gets one status line per part, then the address to open and the demo logins. On Ctrl-C
(or when any part dies) every part is stopped in reverse order.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

from scripts.demo_state import (
    REPO_ROOT,
    DemoState,
    StateInUse,
    mark_web_build,
    web_build_is_current,
    web_sources_hash,
)
from scripts.foryou_process import ForyouProcess, run_once, start_server

MOBILE_DIR = REPO_ROOT / "mobile"
WEB_BUILD_DIR = MOBILE_DIR / "dist"
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 90.0
# The demo integration in the emulator. Both values only ever reach the local emulator, and
# staying the same across runs keeps the backend's stored connections refreshable.
DEMO_CLIENT_ID = "6f1c2a4e-5b7d-4e3a-9c1f-2d8e7a6b5c40"


@dataclass(frozen=True)
class DemoLogin:
    """An app login of the demo and the amoCRM broker (of the seeded account) it connects as.
    The passwords are fixed and public on purpose: they exist only in data/demo/."""

    email: str
    password: str
    amo_login: str
    role: str = "broker"


DEMO_LOGINS = (
    DemoLogin("broker1@foryou.demo", "demo-broker-1", "broker1@reforyou.example"),
    DemoLogin("broker2@foryou.demo", "demo-broker-2", "broker2@reforyou.example"),
    # The agency's admin: the Admin tab, and an amoCRM admin to connect as (which registers
    # the account's webhook, so changes made in amoCRM reach the brokers' screens at once).
    DemoLogin("admin@foryou.demo", "demo-admin", "admin@reforyou.example", role="admin"),
)


@dataclass(frozen=True)
class Ports:
    """Where each part listens (`make demo BACKEND_PORT=8100 EMULATOR_PORT=… APP_PORT=…`)."""

    backend: int = 8000
    emulator: int = 8020
    app: int = 8081

    @property
    def backend_url(self) -> str:
        return f"http://{HOST}:{self.backend}"

    @property
    def emulator_url(self) -> str:
        return f"http://{HOST}:{self.emulator}"

    @property
    def app_url(self) -> str:
        return f"http://{HOST}:{self.app}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.backend_url}/api/v1/integrations/amo-crm/oauth/callback"

    def busy(self) -> list[str]:
        """One plain line per port something else already listens on."""
        lines = []
        for part, variable, port in (
            ("backend", "BACKEND_PORT", self.backend),
            ("amoCRM emulator", "EMULATOR_PORT", self.emulator),
            ("app", "APP_PORT", self.app),
        ):
            with socket.socket() as probe:
                # As the servers bind: a port left in TIME_WAIT by the last run is free.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((HOST, port))
                except OSError:
                    lines.append(
                        f"demo: port {port} ({part}) is busy; choose another, "
                        f"e.g. `make demo {variable}={port + 100}`"
                    )
        return lines


@dataclass
class Service:
    """A part other than the backend: its output goes to a log file, and it is ready once
    `ready_url` answers."""

    name: str
    command: list[str]
    ready_url: str
    log_path: Path
    cwd: Path = REPO_ROOT
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - our own commands
                self.command,
                cwd=self.cwd,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # Ctrl-C reaches only the orchestrator, which stops the parts in order.
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, timeout: float, should_stop: Callable[[], bool]) -> bool:
        """True once `ready_url` answers; False if asked to stop; raises if it exits or times
        out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if should_stop():
                return False
            if not self.alive():
                msg = f"{self.name} exited; see {shown(self.log_path)}"
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.ready_url, timeout=2).status_code == 200:
                    return True
            time.sleep(0.1)
        msg = f"{self.name} was not ready in {timeout:.0f} s; see {shown(self.log_path)}"
        raise RuntimeError(msg)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        # The whole process group: uvicorn's and node's children go too.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def shown(path: Path) -> str:
    """A path as the person at the terminal (in the repository root) would type it."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the demo talks to the terminal


def console_script(name: str) -> list[str]:
    """A console script of this environment (`make demo` runs under `uv run`)."""
    path = Path(sys.executable).parent / name
    return [str(path)] if path.exists() else [sys.executable, "-m", name.replace("-", "_")]


def build_web_app(log_path: Path) -> None:
    """Export the app for the web unless the build in mobile/dist is of the current sources."""
    sources_hash = web_sources_hash(MOBILE_DIR, os.environ)
    if web_build_is_current(WEB_BUILD_DIR, sources_hash):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to build the app (Node.js 20)")
    # Only the first run and runs after a change to mobile/ get here.
    say("demo: building the app's web version (about a minute)…")
    with log_path.open("ab") as log_file:
        done = subprocess.run(  # noqa: S603 - our own command
            [npm, "run", "--silent", "export:web"],
            cwd=MOBILE_DIR,
            env={**os.environ, "CI": "1"},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"the app's web build failed; see {shown(log_path)}")
    mark_web_build(WEB_BUILD_DIR, sources_hash)


def amo_users(ports: Ports) -> dict[str, dict[str, object]]:
    """The emulator's amoCRM users by login."""
    response = httpx.get(f"{ports.emulator_url}/_emulator/users", timeout=5)
    response.raise_for_status()
    return {str(user["login"]): user for user in response.json()["users"]}


def backend_env(ports: Ports, state: DemoState, client_secret: str) -> dict[str, str]:
    # No FORYOU_JWT_SECRET / FORYOU_ENCRYPTION_KEYS: the backend generates them once into
    # data/demo/ next to its database and finds them again on every later run.
    return {
        "FORYOU_DATABASE_URL": state.database_url,
        "FORYOU_PUBLIC_URL": ports.backend_url,
        "FORYOU_AMOCRM_CLIENT_ID": DEMO_CLIENT_ID,
        "FORYOU_AMOCRM_CLIENT_SECRET": client_secret,
        "FORYOU_AMOCRM_REDIRECT_URI": ports.redirect_uri,
        "FORYOU_AMOCRM_UPSTREAM_URL": ports.emulator_url,
        "FORYOU_WEB_RETURN_URL": f"{ports.app_url}/amo-crm/callback",
        "FORYOU_CORS_ORIGINS": ports.app_url,
        # The keep-alive worker runs inside the API process.
        "FORYOU_EMBEDDED_WORKER": "true",
    }


def create_demo_users(
    env: dict[str, str], state: DemoState, users: dict[str, dict[str, object]]
) -> None:
    """A new database: its schema and the demo app users, or no database at all, so the next
    run tries again instead of starting with some users missing."""
    try:
        run_once(["db", "upgrade"], env, state.root)
        for login in DEMO_LOGINS:
            name = str(users[login.amo_login]["name"])
            create = ["users", "create", "--email", login.email, "--password", login.password]
            run_once([*create, "--role", login.role, "--name", name], env, state.root)
    except BaseException:
        state.database.unlink(missing_ok=True)
        raise


def summary(
    ports: Ports,
    parts: list[tuple[str, str, Path]],
    users: dict[str, dict[str, object]],
    seconds: float,
) -> str:
    lines = [""]
    lines += [f"✓ {name:<16} {url:<34} log: {shown(log)}" for name, url, log in parts]
    lines += [
        "",
        f"Ready in {seconds:.0f} s. Open {ports.app_url}",
        "  (exactly this address: amoCRM sends the browser back to it, and the app keeps",
        "  its session per address)",
        "",
        "Demo logins (fixed, demo-only; kept in data/demo/ with everything else,",
        "`make demo-reset` starts over):",
        "  app e-mail / password                 amoCRM user it connects as (login / password)",
    ]
    for login in DEMO_LOGINS:
        amo = users[login.amo_login]
        app_side = f"{login.email} / {login.password}"
        lines.append(f"  {app_side:<37} {amo['login']} / {amo['password']} ({amo['name']})")
    lines += [
        "  Connect: CRM tab -> «Підключити» -> sign in on the amoCRM page -> «Разрешить».",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> tuple[Ports, bool]:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__)
    defaults = Ports()
    parser.add_argument("--backend-port", type=int, default=defaults.backend)
    parser.add_argument("--emulator-port", type=int, default=defaults.emulator)
    parser.add_argument("--app-port", type=int, default=defaults.app)
    parser.add_argument(
        "--reset", action="store_true", help="forget the kept state (users, connections, secrets)"
    )
    options = parser.parse_args(argv)
    ports = Ports(options.backend_port, options.emulator_port, options.app_port)
    return ports, options.reset


def claim_state(state: DemoState, reset: bool) -> IO[str] | None:
    try:
        lock = state.lock()
    except StateInUse as in_use:
        say(
            f"demo: another `make demo` is already running from this checkout (process "
            f"{in_use.holder}); stop it with Ctrl-C in its terminal first"
        )
        return None
    if reset:
        state.reset()
        say(f"demo: starting fresh ({shown(state.root)} emptied)")
    return lock


def main(argv: list[str]) -> int:
    started_at = time.monotonic()
    ports, reset = parse_args(argv)
    state = DemoState()
    lock = claim_state(state, reset)
    if lock is None:
        return 1
    busy = ports.busy()
    if busy:
        print("\n".join(busy), file=sys.stderr)  # noqa: T201 - console output
        return 1
    state.start_logs()
    fresh_database = not state.database.exists()
    client_secret = state.client_secret()
    env = {**os.environ, **backend_env(ports, state, client_secret)}
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    started: list[Service | ForyouProcess] = []
    try:
        emulator = Service(
            name="amoCRM emulator",
            command=[
                *console_script("amocrm-emulator"),
                *("--host", HOST, "--port", str(ports.emulator), "--control"),
                *("--client-id", DEMO_CLIENT_ID, "--client-secret", client_secret),
                *("--redirect-uri", ports.redirect_uri),
                *("--state-file", str(state.emulator_state)),
            ],
            ready_url=f"{ports.emulator_url}/_emulator/users",
            log_path=state.log("emulator"),
        )
        emulator.start()
        started.append(emulator)
        if fresh_database:
            # The demo users carry the names of the amoCRM brokers they stand for.
            if not emulator.wait_ready(READY_TIMEOUT_SECONDS, stopping.is_set):
                return 0
            create_demo_users(env, state, amo_users(ports))
        backend = start_server(
            env, log_path=state.log("backend"), host=HOST, port=ports.backend, cwd=state.root
        )
        started.append(backend)
        # The backend and the emulator start while the app is (re)built.
        build_web_app(state.log("app"))
        node = shutil.which("node") or "node"
        app = Service(
            name="app",
            command=[
                node,
                str(MOBILE_DIR / "e2e" / "spa-server.mjs"),
                *("--dir", str(WEB_BUILD_DIR), "--port", str(ports.app)),
                *("--api-url", f"{ports.backend_url}/api/v1"),
            ],
            ready_url=ports.app_url,
            log_path=state.log("app"),
        )
        app.start()
        started.append(app)
        for part in (emulator, backend, app):
            if not part.wait_ready(READY_TIMEOUT_SECONDS, should_stop=stopping.is_set):
                return 0
        parts = [
            ("amoCRM emulator", ports.emulator_url, emulator.log_path),
            ("backend", f"{ports.backend_url}/api/v1", backend.log_path),
            ("app (web build)", ports.app_url, app.log_path),
        ]
        say(summary(ports, parts, amo_users(ports), time.monotonic() - started_at))
        while not stopping.wait(0.5):
            dead = [part.name for part in started if not part.alive()]
            if dead:
                say(f"demo: {', '.join(dead)} stopped; shutting down (logs in {shown(state.root)})")
                return 1
        return 0
    except RuntimeError as error:
        if stopping.is_set():  # Ctrl-C during a build or a setup command ends it with an error
            return 0
        print(f"demo: {error}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        for part in reversed(started):
            part.stop()
        say("demo: stopped")
        lock.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
