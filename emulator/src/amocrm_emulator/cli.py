"""The `amocrm-emulator` command (also `python -m amocrm_emulator`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from collections.abc import Sequence

from amocrm_emulator.config import REFRESH_REUSE_MODES, EmulatorOptions, IntegrationSpec, Switches
from amocrm_emulator.state.seed import MAX_EXTRA_BROKERS

READY_PREFIX = "amocrm-emulator listening on "


def parse_args(argv: Sequence[str] | None = None) -> EmulatorOptions:
    parser = argparse.ArgumentParser(
        prog="amocrm-emulator",
        description="A faithful local amoCRM / Kommo: consent page, OAuth 2.0 token endpoint, "
        "API v4 subset, rate limits and faults.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8020, help="port; 0 picks a free one")
    parser.add_argument("--client-id", help="register an integration with this client id")
    parser.add_argument("--client-secret", help="its client secret")
    parser.add_argument("--redirect-uri", help="its registered Redirect URI")
    parser.add_argument("--disable-hook-url", help="its disable-hook URL (optional)")
    parser.add_argument(
        "--refresh-reuse",
        choices=REFRESH_REUSE_MODES,
        default="strict",
        help="strict: a refresh token works once (amoCRM.ru); grace: the old "
        "one works until the new one is used (Kommo)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=7.0,
        help="API requests per second per account (0 = no limit)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    parser.add_argument(
        "--extra-brokers",
        type=int,
        default=0,
        help=f"add this many brokers to reforyou (0-{MAX_EXTRA_BROKERS}), for load tests",
    )
    parser.add_argument("--state-file", help="keep the state in this JSON file across restarts")
    parser.add_argument(
        "--control", action="store_true", help="expose the test controls under /_emulator/"
    )
    args = parser.parse_args(argv)
    integration_flags = (args.client_id, args.client_secret, args.redirect_uri)
    integrations = []
    if any(integration_flags):
        if not all(integration_flags):
            parser.error("--client-id, --client-secret and --redirect-uri go together")
        integrations.append(
            IntegrationSpec(
                client_id=args.client_id,
                client_secret=args.client_secret,
                redirect_uri=args.redirect_uri,
                disable_hook_url=args.disable_hook_url,
            )
        )
    elif args.disable_hook_url:
        parser.error("--disable-hook-url needs --client-id, --client-secret and --redirect-uri")
    if not 0 <= args.extra_brokers <= MAX_EXTRA_BROKERS:
        parser.error(f"--extra-brokers must be between 0 and {MAX_EXTRA_BROKERS}")
    if args.rate_limit < 0:
        parser.error("--rate-limit must not be negative")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return EmulatorOptions(
        host=args.host,
        port=args.port,
        seed=args.seed,
        extra_brokers=args.extra_brokers,
        state_file=args.state_file,
        control=args.control,
        integrations=integrations,
        switches=Switches(refresh_reuse=args.refresh_reuse, rate_limit=args.rate_limit),
    )


class _DropNoise(logging.Filter):
    """Injected dropped connections are intended; uvicorn would log each as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def _serve(options: EmulatorOptions) -> None:
    import uvicorn

    from amocrm_emulator.app import build_app
    from amocrm_emulator.core import Emulator
    from amocrm_emulator.state.seed import seeded_logins

    emulator = Emulator(options)
    sock = _bind(options.host, options.port)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        build_app(emulator),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
        backlog=2048,
    )
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.error").addFilter(_DropNoise())

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.01)
        out = sys.stdout
        out.write("Seeded amoCRM logins (login / password, role, account):\n")
        for row in seeded_logins(emulator.state):
            out.write(
                f"  {row['login']} / {row['password']}  {row['role']}  "
                f"{row['account_subdomain']}.{row['base_domain']}\n"
            )
        shown = f"[{options.host}]" if ":" in options.host else options.host
        out.write(f"{READY_PREFIX}http://{shown}:{port}\n")
        out.flush()

    watcher = asyncio.create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        sock.close()


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_args(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(_serve(options))
    else:
        uvloop.run(_serve(options))


if __name__ == "__main__":
    main()
