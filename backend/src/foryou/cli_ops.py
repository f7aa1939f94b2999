"""What the admin commands do, kept apart from argument parsing."""

from __future__ import annotations

import uuid
from typing import Any

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
from foryou.services import build_services, passwords_from


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


async def list_connections(settings: Settings) -> list[dict[str, Any]]:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            rows = await repository.list_connections(session)
        return [
            {
                "user": str(row.user_id),
                "status": row.status,
                "reason": row.reason,
                "domain": row.account_domain,
                "account_id": row.account_id,
                "amo_user": row.amo_user_name or row.amo_user_id,
                "access_expires_at": row.access_expires_at,
                "version": row.version,
            }
            for row in rows
        ]
    finally:
        await db.dispose()


async def rotate_keys(settings: Settings) -> tuple[int, str]:
    """Re-encrypt every row under the current key; rows changed meanwhile are retried."""
    db = Database(settings.database_url)
    cipher = TokenCipher(resolve_secrets(settings).encryption_keys)
    rewritten = 0
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
        return rewritten, cipher.current_key_id
    finally:
        await db.dispose()


async def follow_accounts(settings: Settings) -> None:
    """Register (or check) every account's webhook; poll events where no admin can."""
    services = build_services(settings, resolve_secrets(settings), SystemClock())
    try:
        await services.live.follow_accounts()
        await services.live.settled()
    finally:
        await services.aclose()
