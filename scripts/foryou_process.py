"""Run a real `foryou` process (`serve`, `worker`, or a one-shot command) the one way.

The token-lifecycle tests, the benchmarks, `make demo` and the browser end-to-end stack all
start the backend as its own process: spawn `python -m foryou …` with an environment, send its
output to a log file, wait until `/readyz` answers, and stop it with SIGTERM (SIGKILL after a
grace period) — the whole process group, since uvicorn's supervisor has worker children.

It lives in `scripts/` (importable as `scripts.foryou_process` from the repository root, which
pytest puts on its path) rather than in the backend package, so the product does not ship
test tooling, and rather than in `backend/tests`, so the benchmarks and the demo can use it
without reaching into a test folder.

The command line serves the browser tests (mobile/e2e/stack.ts), which are not Python:

    python -m scripts.foryou_process serve --host 127.0.0.1 --port 8000 --log-file backend.log

starts `foryou serve` with the caller's environment, prints `foryou ready on <url>` once
`/readyz` answers, and stops the server when it is itself stopped (SIGTERM or SIGINT).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_LINE = "foryou ready on "
READY_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 15.0
LOG_TAIL_CHARS = 3000


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def foryou_command(*args: str) -> list[str]:
    """The `foryou` command line of this interpreter (the project's environment)."""
    return [sys.executable, "-m", "foryou", *args]


def run_once(args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 120) -> str:
    """A one-shot `foryou` command (`db upgrade`, `users create …`): its output, or an error."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        foryou_command(*args),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        msg = f"foryou {' '.join(args[:2])} failed ({done.returncode}):\n{done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return done.stdout


@dataclass
class ForyouProcess:
    """One running `foryou` process and where its output goes."""

    args: list[str]
    process: subprocess.Popen[bytes]
    log_path: Path
    own_group: bool
    base_url: str | None = None
    # The output as it was when the process stopped: the log file may be removed afterwards.
    final_log: str | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        args: Sequence[str],
        env: Mapping[str, str],
        *,
        log_path: Path,
        cwd: Path | None = None,
        base_url: str | None = None,
        own_group: bool = True,
    ) -> ForyouProcess:
        """Spawn `foryou <args>`; stdout and stderr go to `log_path`.

        `own_group` starts it in a session of its own, so stopping reaches uvicorn's worker
        processes too and a Ctrl-C at the terminal reaches only the caller; without it the
        process stays in the caller's group (whoever stops the caller's group stops it too).
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                foryou_command(*args),
                cwd=cwd or log_path.parent,
                env=dict(env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=own_group,
            )
        return cls(list(args), process, log_path, own_group, base_url)

    @property
    def name(self) -> str:
        return f"foryou {self.args[0]}" if self.args else "foryou"

    def log(self) -> str:
        """The process's output so far (kept after `stop`, even if the file is gone)."""
        if self.final_log is not None:
            return self.final_log
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def url(self) -> str:
        """The address of a process that serves HTTP (the worker has none)."""
        if self.base_url is None:
            msg = f"{self.name} has no address"
            raise RuntimeError(msg)
        return self.base_url

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(
        self,
        timeout: float = READY_TIMEOUT_SECONDS,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Poll `/readyz` until it answers 200. False if `should_stop()` turned true first;
        an exit or the timeout raises with the tail of the log."""
        url = self.url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if should_stop():
                return False
            if not self.alive():
                msg = (
                    f"{self.name} exited ({self.process.returncode}):\n"
                    f"{self.log()[-LOG_TAIL_CHARS:]}"
                )
                raise RuntimeError(msg)
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return True
            time.sleep(0.1)
        msg = f"{self.name} was not ready in {timeout:.0f} s:\n{self.log()[-LOG_TAIL_CHARS:]}"
        raise RuntimeError(msg)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM (the group when it has one), SIGKILL if still running after `grace`."""
        if self.alive():
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(5)
        self.final_log = self.log()

    def _signal(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.own_group:
                os.killpg(self.process.pid, signum)
            else:
                self.process.send_signal(signum)


def start_server(
    env: Mapping[str, str],
    *,
    log_path: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    workers: int = 1,
    cwd: Path | None = None,
    own_group: bool = True,
) -> ForyouProcess:
    """`foryou serve` on `host:port` (a free port when none is given), not yet waited for."""
    port = port or free_port()
    args = ["serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    return ForyouProcess.start(
        args,
        env,
        log_path=log_path,
        cwd=cwd,
        base_url=f"http://{host}:{port}",
        own_group=own_group,
    )


@contextlib.contextmanager
def serving(
    env: Mapping[str, str],
    *,
    port: int | None = None,
    workers: int = 1,
    workdir: Path | None = None,
    wait: bool = True,
) -> Iterator[ForyouProcess]:
    """`foryou serve` on a loopback port for the duration of the block, stopped on exit.

    It runs in `workdir` (a temporary directory when none is given) and logs to
    `serve.log` there. With `wait=False` it yields at once (call `wait_ready` later), so a slow
    start overlaps with the caller's own preparation.
    """
    with contextlib.ExitStack() as stack:
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="foryou-")))
        server = start_server(
            env, log_path=workdir / "serve.log", port=port, workers=workers, cwd=workdir
        )
        try:
            if wait:
                server.wait_ready()
            yield server
        finally:
            server.stop()


# ---- command line (for the browser tests' stack) ----------------------------------------------
def _serve_until_stopped(options: argparse.Namespace) -> int:
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log_path = Path(options.log_file).resolve()
    # The caller's process group: a caller that stops our group stops the server with us.
    server = start_server(
        os.environ,
        log_path=log_path,
        host=options.host,
        port=options.port,
        workers=options.workers,
        cwd=Path.cwd(),
        own_group=False,
    )
    try:
        if not server.wait_ready(options.timeout, should_stop=stopping.is_set):
            return 0
        print(f"{READY_LINE}{server.base_url}", flush=True)  # noqa: T201 - the ready line
        while not stopping.wait(0.5):
            if not server.alive():
                print(f"foryou serve exited ({server.process.returncode}); see {log_path}")  # noqa: T201
                return 1
        return 0
    except RuntimeError as error:
        print(error, file=sys.stderr)  # noqa: T201
        return 1
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.foryou_process",
        description="Run `foryou serve` with this environment until stopped.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start `foryou serve` and wait until it is ready")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-file", required=True, help="where the server's output goes")
    serve.add_argument("--timeout", type=float, default=READY_TIMEOUT_SECONDS)
    return _serve_until_stopped(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
