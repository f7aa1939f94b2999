"""What the admin commands do, kept apart from argument parsing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from foryou.admin.service import PageRequest, UserView
from foryou.agency import repository as agency_repository
from foryou.agency.gateway import agency_token_context
from foryou.agency.service import AgencyView
from foryou.auth.models import Role
from foryou.auth.service import EmailTaken, UserService
from foryou.auth.tokens import AppTokens
from foryou.clock import SystemClock
from foryou.config import Settings
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.tokens import reseal_tokens
from foryou.secrets_store import resolve_secrets
from foryou.services import Services, build_services, passwords_from


async def create_user(
    settings: Settings, email: str, password: str, role: Role, name: str | None
) -> uuid.UUID:
    db = Database(settings.database_url)
    try:
        secrets = resolve_secrets(settings)
        users = UserService(
            db, AppTokens(settings, secrets.jwt_secret), SystemClock(), passwords_from(settings)
        )
        try:
            user = await users.create_user(email=email, password=password, role=role, name=name)
        except EmailTaken:
            raise ValueError(f"a user with email {email} already exists") from None
        return user.id
    finally:
        await db.dispose()


_CLI_PAGE = 100


async def list_connections(
    settings: Settings, state: str | None, progress: Callable[[int, int], None]
) -> list[dict[str, Any]]:
    """Every broker's connection (the admin screen's rows), page by page with `progress`."""
    async with _services(settings) as services:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            found = await services.admin.list_brokers(
                PageRequest(page, _CLI_PAGE), state=state, q=None
            )
            rows.extend(
                {
                    "user": item.email,
                    "status": item.state,
                    "reason": item.reason,
                    "domain": item.domain,
                    "amo_user": item.amo_user_name or item.amo_user_id,
                    "last_refreshed_at": item.last_refreshed_at,
                    "last_error": item.last_error,
                    "reconnect_requested": item.reconnect_requested,
                }
                for item in found.items
            )
            progress(len(rows), found.total)
            if not found.has_more:
                return rows
            page += 1


@asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[Services]:
    services = build_services(settings, resolve_secrets(settings), SystemClock())
    try:
        yield services
    finally:
        await services.aclose()


async def set_agency_token(settings: Settings, domain: str, token: str) -> AgencyView:
    """The same checks as the admin API; the operator is recorded as no app user."""
    async with _services(settings) as services:
        return await services.agency.set_long_lived(None, domain, token)


async def show_agency(settings: Settings) -> AgencyView:
    async with _services(settings) as services:
        return await services.agency.show()


async def block_user(settings: Settings, email: str, blocked: bool) -> UserView:
    async with _services(settings) as services:
        user = await services.admin.user_by_email(email)
        if user is None:
            raise ValueError(f"no user with email {email}")
        return await services.admin.set_blocked(None, user.id, blocked)


async def rotate_keys(settings: Settings) -> tuple[int, int, str]:
    """Re-encrypt every connection's tokens and every agency token under the current key;
    connections changed meanwhile are retried."""
    db = Database(settings.database_url)
    cipher = TokenCipher(resolve_secrets(settings).encryption_keys)
    rewritten = agencies = 0
    try:
        for _ in range(5):
            async with db.transaction() as session:
                pending = [
                    row
                    for row in await repository.connections_with_tokens(session)
                    if row.token_key_id != cipher.current_key_id
                ]
            if not pending:
                break
            for row in pending:
                access_token_enc, refresh_token_enc = reseal_tokens(cipher, row)
                async with db.transaction() as session:
                    if await repository.rewrite_ciphertexts(
                        session,
                        row.id,
                        expected_version=row.version,
                        key_id=cipher.current_key_id,
                        access_token_enc=access_token_enc,
                        refresh_token_enc=refresh_token_enc,
                    ):
                        rewritten += 1
        async with db.transaction() as session:
            for agency in await agency_repository.list_all(session):
                if agency.token_enc is None or agency.token_key_id is None:
                    continue
                if agency.token_key_id == cipher.current_key_id:
                    continue
                context = agency_token_context(agency.id, agency.account_id)
                opened = cipher.decrypt(agency.token_enc, agency.token_key_id, context)
                await agency_repository.reseal(
                    session, agency.id, cipher.current_key_id, cipher.encrypt(opened, context)
                )
                agencies += 1
        return rewritten, agencies, cipher.current_key_id
    finally:
        await db.dispose()


async def follow_accounts(settings: Settings) -> None:
    """Register (or check) every account's webhook; poll events where no admin can."""
    async with _services(settings) as services:
        await services.live.follow_accounts()
        await services.live.settled()
