"""Run the real backend (`foryou serve`) for a benchmark, and walk its connect flow over HTTP."""

from __future__ import annotations

import base64
import contextlib
import html
import os
import re
import secrets
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from amocrm_emulator.testing import RunningEmulator

from bench.common import CLIENT_SECRET, POSTGRES_URL
from scripts.foryou_process import ForyouProcess, free_port, run_once, serving
from scripts.harness_constants import AMO, API, BINDER_COOKIE, CLIENT_ID

# A fresh password per run for the benchmark's app users; never stored anywhere.
APP_PASSWORD = secrets.token_urlsafe(18)


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A database URL of its own for one run: a SQLite file, or a fresh PostgreSQL database."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="foryou-bench-") as directory:
            yield f"sqlite+aiosqlite:///{directory}/foryou.sqlite3"
        return
    import asyncio

    import asyncpg

    admin_dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    name = f"foryou_bench_{uuid.uuid4().hex[:10]}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        base = POSTGRES_URL.rsplit("/", 1)[0]
        yield f"{base}/{name}"
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Backend:
    base_url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    workdir: Path
    users: dict[str, str] = field(default_factory=dict)
    server: ForyouProcess | None = None

    def cli(self, *args: str) -> str:
        return run_once(args, self.env, self.workdir)

    def create_broker(self, email: str) -> None:
        self.cli("users", "create", "--email", email, "--password", APP_PASSWORD)

    def login(self, email: str) -> dict[str, str]:
        response = httpx.post(
            f"{self.base_url}{API}/auth/login",
            json={"email": email, "password": APP_PASSWORD},
            timeout=30,
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['data']['accessToken']}"}

    def connect(
        self,
        emu: RunningEmulator,
        headers: dict[str, str],
        login: str,
        *,
        forwarded_for: str | None = None,
    ) -> None:
        """The broker's whole round trip: authorize, the start page, consent at amoCRM, the
        callback, and the app redeeming the callback's ticket. `forwarded_for`: the broker's
        own address as a trusted proxy names it (many brokers, each throttled apart)."""
        user = next(u for u in emu.control.users() if u["login"] == login)
        proxy = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        with httpx.Client(base_url=self.base_url, timeout=30, headers=proxy) as client:
            answer = client.post(f"{AMO}/authorize", headers=headers, json={"client": "web"})
            answer.raise_for_status()
            start = urlsplit(answer.json()["data"]["authorizeUrl"])
            started = client.get(f"{start.path}?{start.query}")
            consent = re.search(r'<a [^>]*href="([^"]*/oauth\?[^"]*)"', started.text)
            if started.status_code != 200 or consent is None:
                msg = f"oauth/start answered {started.status_code}: {started.text[:200]}"
                raise RuntimeError(msg)
            binder = started.cookies.get(BINDER_COOKIE)
            client.cookies.clear()
            location = emu.consent(html.unescape(consent.group(1)), user["login"], user["password"])
            back = urlsplit(location)
            done = client.get(
                f"{back.path}?{back.query}", headers={"Cookie": f"{BINDER_COOKIE}={binder}"}
            )
            outcome = parse_qs(urlsplit(done.headers.get("location", "")).query)
            if outcome.get("status") != ["pending"]:
                msg = (
                    f"connect of {login} ended with {outcome or done.status_code} {done.text[:300]}"
                )
                raise RuntimeError(msg)
            completed = client.post(
                f"{AMO}/complete", headers=headers, json={"ticket": outcome["ticket"][0]}
            )
            if completed.status_code != 200:
                msg = f"completing the connect of {login} answered {completed.status_code}"
                raise RuntimeError(msg)

    def cpu_seconds(self) -> float:
        """CPU time the API process has used so far (user + system)."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of the API process: now and its peak so far (VmRSS, VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        values = {}
        for line in status.splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = round(int(rest.split()[0]) / 1024, 1)
        return {"rss_mib": values.get("VmRSS", 0.0), "peak_rss_mib": values.get("VmHWM", 0.0)}


def backend_env(database_url: str, emulator_url: str, port: int, **extra: str) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("FORYOU_")},
        "FORYOU_DATABASE_URL": database_url,
        "FORYOU_PUBLIC_URL": base,
        "FORYOU_JWT_SECRET": secrets.token_urlsafe(48),
        "FORYOU_ENCRYPTION_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "FORYOU_AMOCRM_CLIENT_ID": CLIENT_ID,
        "FORYOU_AMOCRM_CLIENT_SECRET": CLIENT_SECRET,
        "FORYOU_AMOCRM_REDIRECT_URI": f"{base}{AMO}/oauth/callback",
        "FORYOU_AMOCRM_UPSTREAM_URL": emulator_url,
        "FORYOU_WEB_RETURN_URL": "http://127.0.0.1:9/amo-crm/callback",
        "FORYOU_LOG_LEVEL": "WARNING",
        # App logins of the benchmark are not what is measured: cheap password hashes.
        "FORYOU_PASSWORD_HASH_TIME_COST": "1",
        "FORYOU_PASSWORD_HASH_MEMORY_KIB": "1024",
        **extra,
    }


@contextlib.contextmanager
def run_backend(
    database_url: str, emu: RunningEmulator, *, workers: int = 1, **extra_env: str
) -> Iterator[Backend]:
    """`foryou serve` on a free loopback port, registered with the emulator; stopped on exit."""
    port = free_port()
    env = backend_env(database_url, emu.base_url, port, **extra_env)
    emu.control.register_integration(
        CLIENT_ID, CLIENT_SECRET, env["FORYOU_AMOCRM_REDIRECT_URI"], name="ForYou bench"
    )
    with (
        tempfile.TemporaryDirectory(prefix="foryou-bench-run-") as workdir,
        serving(env, port=port, workers=workers, workdir=Path(workdir)) as server,
    ):
        yield Backend(f"http://127.0.0.1:{port}", server.process, env, Path(workdir), server=server)


@contextlib.contextmanager
def restarted(backend: Backend, *, workers: int = 1) -> Iterator[Backend]:
    """`backend` stopped and started again on the same database, secrets and address: what
    its process kept in memory (caches) is gone, the brokers' connections and tokens are not,
    as after a deploy overnight."""
    if backend.server is None:
        msg = "only a backend started by run_backend can be restarted"
        raise RuntimeError(msg)
    backend.server.stop()
    port = urlsplit(backend.base_url).port
    with serving(backend.env, port=port, workers=workers, workdir=backend.workdir) as server:
        yield Backend(backend.base_url, server.process, backend.env, backend.workdir, server=server)
