"""What `make demo` keeps between runs, and whether the app's web build is still current.

Everything lives under `data/demo/` (git-ignored), so a restart finds the same users, the same
amoCRM connections and the same secrets, and a browser tab left open keeps its session:
  foryou.sqlite3       the backend's database (app users, connections, encrypted amoCRM tokens)
  dev-secrets.json     the JWT secret and token key the backend generates on its first run next to
                       its SQLite database (foryou.secrets_store); issued app JWTs and stored
                       tokens stay valid because the demo never passes secrets of its own
  emulator-state.json  the amoCRM emulator's accounts, CRM data, tokens and signing key
  client-secret        the demo integration's client secret, made on the first run and given to
                       both the emulator and the backend
  logs/                each part's output of the latest run
  demo.lock            held while a demo runs, so a second one cannot share (and corrupt) the state
`make demo-reset` empties it.

Nothing here starts a process, so its tests are unit tests.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = REPO_ROOT / "data" / "demo"
LOCK_FILE = "demo.lock"
LOG_NAMES = ("emulator", "backend", "app")

# Folders under mobile/ that are installed or produced, never read by the web export.
WEB_BUILD_IGNORED_DIRS = (
    Path("node_modules"),
    Path("dist"),
    Path(".expo"),
    Path("e2e") / "artifacts",
)
# Environment the export bakes into the bundle (app.config.ts, config.ts): a changed value,
# such as a backend URL in EXPO_PUBLIC_API_URL, needs a new build just like a changed file.
WEB_BUILD_ENV_PREFIX = "EXPO_PUBLIC_"
WEB_BUILD_ENV_NAMES = (
    "FORYOU_APP_SCHEME",
    "FORYOU_APP_LINK_DOMAIN",
    "FORYOU_IOS_BUNDLE_ID",
    "FORYOU_ANDROID_PACKAGE",
)
# Written into the build folder itself: a build replaced by anything else (`npm run export:web`
# clears the folder) carries no stamp and is rebuilt.
WEB_BUILD_STAMP = ".sources-sha256"


class StateInUse(Exception):
    """Another demo holds the state directory."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


@dataclass(frozen=True)
class DemoState:
    root: Path = DEFAULT_STATE_DIR

    @property
    def database(self) -> Path:
        return self.root / "foryou.sqlite3"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database}"

    @property
    def emulator_state(self) -> Path:
        return self.root / "emulator-state.json"

    def client_secret(self) -> str:
        """The demo integration's client secret, shared by the emulator and the backend: made
        on the first run and kept here, so no secret, even a demo one, lives in the repository."""
        path = self.root / "client-secret"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def lock(self) -> IO[str]:
        """Hold the state for this process's lifetime (the lock goes with the process, even a
        killed one); `StateInUse` names the process id of the demo that holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / LOCK_FILE).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StateInUse(holder) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def reset(self) -> None:
        """Forget every user, connection, secret and emulator change (the lock stays held)."""
        for entry in self.root.iterdir():
            if entry.name == LOCK_FILE:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def start_logs(self) -> None:
        """Empty log files for this run, so each one tells the story of the latest start."""
        for name in LOG_NAMES:
            path = self.log(name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")


def _web_sources(mobile_dir: Path) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(mobile_dir):
        here = Path(directory).relative_to(mobile_dir)
        subdirs[:] = sorted(d for d in subdirs if here / d not in WEB_BUILD_IGNORED_DIRS)
        for name in sorted(files):
            yield here / name


def web_sources_hash(mobile_dir: Path, env: Mapping[str, str]) -> str:
    """SHA-256 over every source, config and lock file of the app (paths and contents) and the
    build-time environment; installed and generated folders do not count."""
    digest = hashlib.sha256()
    for relative in _web_sources(mobile_dir):
        digest.update(f"file {relative.as_posix()}\0".encode())
        digest.update(hashlib.sha256((mobile_dir / relative).read_bytes()).digest())
    for name in sorted(env):
        if name.startswith(WEB_BUILD_ENV_PREFIX) or name in WEB_BUILD_ENV_NAMES:
            digest.update(f"env {name}={env[name]}\0".encode())
    return digest.hexdigest()


def web_build_is_current(dist: Path, sources_hash: str) -> bool:
    stamp = dist / WEB_BUILD_STAMP
    return (
        (dist / "index.html").is_file()
        and stamp.is_file()
        and (stamp.read_text().strip() == sources_hash)
    )


def mark_web_build(dist: Path, sources_hash: str) -> None:
    (dist / WEB_BUILD_STAMP).write_text(sources_hash + "\n")
