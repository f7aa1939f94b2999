"""The `foryou` command: serve, database, users, connections, keys, webhooks, OpenAPI."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from typing import Annotated

import typer

from foryou.auth.models import Role
from foryou.config import Settings, SettingsError, load_settings

app = typer.Typer(help="ForYou CRM Connect backend.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="App users.", no_args_is_help=True)
connections_app = typer.Typer(help="amoCRM connections.", no_args_is_help=True)
keys_app = typer.Typer(help="Token encryption keys.", no_args_is_help=True)
webhooks_app = typer.Typer(help="amoCRM webhooks of connected accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(connections_app, name="connections")
app.add_typer(keys_app, name="keys")
app.add_typer(webhooks_app, name="webhooks")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Run the API with uvicorn (migrations are applied first)."""
    import uvicorn

    from foryou.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    metrics_dir: str | None = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker process counts in files here and /metrics merges them all; set before
        # the workers start, because prometheus_client picks its storage at import.
        metrics_dir = tempfile.mkdtemp(prefix="foryou-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "foryou.main:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            log_config=None,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="One run, then exit.")] = False,
) -> None:
    """Keep amoCRM connections alive: refresh tokens before they expire and at least weekly,
    purge expired connect attempts. Stops cleanly on SIGTERM."""
    from foryou.logging import configure_logging, configure_structlog
    from foryou.migrate import upgrade
    from foryou.worker.process import run_worker

    settings = _settings()
    configure_structlog()
    configure_logging(settings.log_level, settings.log_json)
    upgrade(settings.database_url)
    asyncio.run(run_worker(settings, once=once))


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    from foryou.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login email.")],
    password: Annotated[str, typer.Option(help="Initial password.", prompt=True, hide_input=True)],
    role: Annotated[str, typer.Option(help="broker or admin.")] = "broker",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create an app user."""
    from foryou.cli_ops import create_user

    if role.upper() not in (Role.BROKER, Role.ADMIN):
        typer.echo("invalid --role: use broker or admin", err=True)
        raise typer.Exit(2)
    if len(password) < 8:
        typer.echo("invalid --password: at least 8 characters", err=True)
        raise typer.Exit(2)
    settings = _settings()
    try:
        user_id = asyncio.run(create_user(settings, email, password, Role(role.upper()), name))
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {role.lower()} {email} ({user_id})")


@connections_app.command("list")
def connections_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """List amoCRM connections (no secrets)."""
    from foryou.cli_ops import list_connections

    rows = asyncio.run(list_connections(_settings()))
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str))
        return
    header = ("user", "status", "reason", "domain", "amo_user", "access_expires_at")
    typer.echo("\t".join(header))
    for row in rows:
        typer.echo("\t".join(str(row.get(column) or "-") for column in header))


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored token with the first key of FORYOU_ENCRYPTION_KEYS."""
    from foryou.cli_ops import rotate_keys

    rewritten, key_id = asyncio.run(rotate_keys(_settings()))
    typer.echo(f"re-encrypted {rewritten} connection(s) with key {key_id}")


@webhooks_app.command("register")
def webhooks_register() -> None:
    """Register the webhook of every account with active brokers (with an amoCRM admin's
    connection), or check it; accounts without an admin get their events polled once."""
    from foryou.cli_ops import follow_accounts

    asyncio.run(follow_accounts(_settings()))
    typer.echo("webhooks checked")


@app.command()
def openapi() -> None:
    """Print the OpenAPI document (the app generates its API types from it)."""
    import base64
    import os
    import secrets

    from pydantic import SecretStr

    from foryou.main import create_app

    # The document does not depend on the database or on secrets: build the app on throwaway
    # ones so that printing it never creates files.
    settings = _settings().model_copy(
        update={
            "database_url": "sqlite+aiosqlite:///:memory:",
            "jwt_secret": SecretStr(secrets.token_urlsafe(48)),
            "jwt_public_key": None,
            "encryption_keys": SecretStr("doc:" + base64.b64encode(os.urandom(32)).decode()),
            "redis_url": None,
        }
    )
    document = create_app(settings).openapi()
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    app()
