"""`make demo`: the whole product on this machine, until Ctrl-C.

First it checks that every port is free (and names the one that is not, with the override
to use: `make demo BACKEND_PORT=8100`, `EMULATOR_PORT=…`, `APP_PORT=…`). Then it starts, in
order and each once the previous one is ready:
  1. the amoCRM emulator on 127.0.0.1:8020 with a demo integration registered,
  2. the backend on 127.0.0.1:8000 (a fresh SQLite database, demo app users created),
     with its keep-alive worker embedded (FORYOU_EMBEDDED_WORKER),
  3. the app's web build (exported from mobile/) on 127.0.0.1:8081, served by the same
     SPA server the browser end-to-end tests use.
Then it prints the URL and the demo logins. The emulator's and the app server's output is shown
with a prefix; the backend (started by scripts/foryou_process.py, like in the tests and the
benchmarks) logs to a file named in the summary. On Ctrl-C (or when any service dies) every
service is stopped in reverse order.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from scripts.foryou_process import ForyouProcess, run_once, start_server

REPO_ROOT = Path(__file__).resolve().parent.parent
MOBILE_DIR = REPO_ROOT / "mobile"
HOST = "127.0.0.1"
DEMO_CLIENT_ID = "6f1c2a4e-5b7d-4e3a-9c1f-2d8e7a6b5c40"
READY_TIMEOUT_SECONDS = 90.0
# amoCRM brokers of the default account who get an app login in the demo.
DEMO_BROKERS = ("broker1@reforyou.example", "broker2@reforyou.example")


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
    name: str
    command: list[str]
    ready_line: str | None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = REPO_ROOT
    process: subprocess.Popen[str] | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            self.command,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
            start_new_session=True,  # Ctrl-C reaches the orchestrator, which stops us in order
        )
        if self.ready_line is None:
            self.ready.set()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            print(f"[{self.name}] {line.rstrip()}", flush=True)  # noqa: T201 - console output
            if self.ready_line is not None and self.ready_line in line:
                self.ready.set()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        # The whole process group: uvicorn and npm-started children go too.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def console_script(name: str) -> list[str]:
    """A console script of this environment (`make demo` runs under `uv run`)."""
    path = Path(sys.executable).parent / name
    return [str(path)] if path.exists() else [sys.executable, "-m", name.replace("-", "_")]


def run(command: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> str:
    result = subprocess.run(  # noqa: S603 - our own commands
        command,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} … failed:\n{result.stderr}{result.stdout}")
    return result.stdout


def build_web_app() -> Path:
    """Export the app for the web (Metro's cache makes repeat builds quick)."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to build the app (Node.js 20)")
    print("demo: building the app's web version…", flush=True)  # noqa: T201
    run([npm, "run", "--silent", "export:web"], {"CI": "1"}, cwd=MOBILE_DIR)
    return MOBILE_DIR / "dist"


def wait_ready(service: Service, stopping: threading.Event) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not service.ready.wait(0.1):
        if stopping.is_set() or not service.alive() or time.monotonic() > deadline:
            return False
    return True


def amo_users(ports: Ports) -> list[dict[str, object]]:
    url = f"{ports.emulator_url}/_emulator/users"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        users: list[dict[str, object]] = json.load(response)["users"]
    return users


def backend_env(ports: Ports, database_url: str, client_secret: str) -> dict[str, str]:
    return {
        "FORYOU_DATABASE_URL": database_url,
        "FORYOU_PUBLIC_URL": ports.backend_url,
        "FORYOU_JWT_SECRET": secrets.token_urlsafe(48),
        "FORYOU_ENCRYPTION_KEYS": f"demo:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        "FORYOU_AMOCRM_CLIENT_ID": DEMO_CLIENT_ID,
        "FORYOU_AMOCRM_CLIENT_SECRET": client_secret,
        "FORYOU_AMOCRM_REDIRECT_URI": ports.redirect_uri,
        "FORYOU_AMOCRM_UPSTREAM_URL": ports.emulator_url,
        "FORYOU_WEB_RETURN_URL": f"{ports.app_url}/amo-crm/callback",
        "FORYOU_CORS_ORIGINS": ports.app_url,
        # The keep-alive worker runs inside the API process.
        "FORYOU_EMBEDDED_WORKER": "true",
    }


def parse_ports(argv: list[str]) -> Ports:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__)
    defaults = Ports()
    parser.add_argument("--backend-port", type=int, default=defaults.backend)
    parser.add_argument("--emulator-port", type=int, default=defaults.emulator)
    parser.add_argument("--app-port", type=int, default=defaults.app)
    options = parser.parse_args(argv)
    return Ports(options.backend_port, options.emulator_port, options.app_port)


def main(argv: list[str]) -> int:
    ports = parse_ports(argv)
    busy = ports.busy()
    if busy:
        print("\n".join(busy), file=sys.stderr)  # noqa: T201 - console output
        return 1
    # Fresh secrets and a fresh database every run: the demo lives only in this process tree.
    client_secret = secrets.token_urlsafe(32)
    workdir = Path(tempfile.mkdtemp(prefix="foryou-demo-"))
    env = backend_env(ports, f"sqlite+aiosqlite:///{workdir / 'foryou.sqlite3'}", client_secret)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started: list[Service | ForyouProcess] = []

    def start(service: Service) -> bool:
        service.start()
        started.append(service)
        if wait_ready(service, stopping):
            return True
        if not stopping.is_set():
            print(f"demo: {service.name} did not start", file=sys.stderr)  # noqa: T201
        return False

    try:
        dist = build_web_app()
        emulator = Service(
            name="amocrm",
            command=[
                *console_script("amocrm-emulator"),
                *("--host", HOST, "--port", str(ports.emulator), "--control"),
                *("--client-id", DEMO_CLIENT_ID, "--client-secret", client_secret),
                *("--redirect-uri", ports.redirect_uri),
            ],
            ready_line="amocrm-emulator listening on",
        )
        if not start(emulator):
            return 0 if stopping.is_set() else 1

        serve_env = {**os.environ, **env}
        run_once(["db", "upgrade"], serve_env, workdir)
        logins: list[tuple[str, str, dict[str, object]]] = []
        by_login = {str(user["login"]): user for user in amo_users(ports)}
        for amo_login in DEMO_BROKERS:
            amo_user = by_login[amo_login]
            email = amo_login.replace("@reforyou.example", "@foryou.demo")
            password = secrets.token_urlsafe(9)
            create = ["users", "create", "--email", email, "--password", password]
            run_once(
                [*create, "--role", "broker", "--name", str(amo_user["name"])], serve_env, workdir
            )
            logins.append((email, password, amo_user))

        backend = start_server(
            serve_env, log_path=workdir / "backend.log", host=HOST, port=ports.backend, cwd=workdir
        )
        started.append(backend)
        if not backend.wait_ready(READY_TIMEOUT_SECONDS, should_stop=stopping.is_set):
            return 0

        node = shutil.which("node") or "node"
        app = Service(
            name="app",
            command=[
                node,
                str(MOBILE_DIR / "e2e" / "spa-server.mjs"),
                *("--dir", str(dist), "--port", str(ports.app)),
                *("--api-url", f"{ports.backend_url}/api/v1"),
            ],
            ready_line="spa-server listening on",
        )
        if not start(app):
            return 0 if stopping.is_set() else 1

        lines = [
            "",
            "ForYou CRM Connect demo is running.",
            f"  Open the app:      {ports.app_url}   (use this exact address: the way back from",
            "                     amoCRM returns to it)",
            "  App logins (e-mail / password) and the amoCRM user each broker signs in as:",
        ]
        for email, password, amo_user in logins:
            lines.append(
                f"    {email} / {password}   ->  amoCRM {amo_user['login']} / "
                f"{amo_user['password']} ({amo_user['name']})"
            )
        lines += [
            "  Then: CRM tab -> «Підключити» -> sign in on the amoCRM page -> «Разрешить».",
            f"  Backend API:       {ports.backend_url}/api/v1"
            f"   (OpenAPI: {ports.backend_url}/api/v1/openapi.json)",
            f"  Backend log:       {backend.log_path}",
            f"  amoCRM emulator:   {ports.emulator_url}"
            f"   (request log: {ports.emulator_url}/_emulator/requests)",
            "  Every seeded amoCRM login is listed above the [amocrm] ready line.",
            "Press Ctrl-C to stop.",
            "",
        ]
        print("\n".join(lines), flush=True)  # noqa: T201 - console output
        while not stopping.wait(0.5):
            dead = [s.name for s in started if not s.alive()]
            if dead:
                print(f"demo: {', '.join(dead)} stopped; shutting down", file=sys.stderr)  # noqa: T201
                return 1
        return 0
    except RuntimeError as error:
        print(f"demo: {error}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        for service in reversed(started):
            service.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print("demo: stopped", flush=True)  # noqa: T201


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
