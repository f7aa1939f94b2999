"""amoCRM's disable hook: revoke only what amoCRM confirms is switched off.

The hook's signature covers the client id and the account id and nothing else, so a captured
hook URL is valid forever: anyone who saw it once can replay it, and a late or duplicated
delivery arrives after brokers reconnected. The hook is therefore only a hint. Each of the
account's live connections is checked with its own access token against amoCRM (one cheap
`GET /api/v4/account`): amoCRM refusing the token (401) confirms that connection's tokens are
dead and it is revoked; a token that still works is left alone; no verdict (timeout, 5xx,
429, our request budget unreachable) changes nothing and asks amoCRM to deliver again later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from foryou.clock import Clock
from foryou.config import Settings
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.errors import AppError, InvalidRequest
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.client import AmoCrmClient
from foryou.integrations.amocrm.errors import (
    AmoCrmError,
    AmoUnauthorized,
    TokenKeysUnavailable,
)
from foryou.integrations.amocrm.models import AmoCrmConnection, EventKind
from foryou.integrations.amocrm.referer import parse_account_host
from foryou.integrations.amocrm.service import IntegrationNotConfigured
from foryou.integrations.amocrm.tokens import open_token
from foryou.logging import get_logger

log = get_logger(__name__)

REVOKED_REASON = "integration_disabled"
# Shapes are checked before anything is compared: ASCII only, so every comparison is of bytes.
ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{1,18}$")
CLIENT_UUID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SIGNATURE_PATTERN = re.compile(r"^[0-9A-Fa-f]{64}$")
# amoCRM retries an unanswered hook; without a wait of its own, it waits this long.
_UNVERIFIED_RETRY_AFTER = 60


class InvalidSignature(AppError):
    status_code = 401
    code = "invalid_signature"
    message = "The hook signature is not valid."


class HookUnverified(AppError):
    status_code = 503
    code = "amo_upstream_unavailable"
    message = "amoCRM could not confirm that the integration is off; nothing was revoked."


@dataclass(frozen=True)
class HookOutcome:
    """What a hook did: connections revoked, and those left alone because their token works."""

    revoked: int
    still_working: int

    @property
    def message(self) -> str:
        if self.still_working and not self.revoked:
            return "amoCRM reports the integration active; nothing was revoked."
        return f"{self.revoked} connection(s) revoked."


@dataclass(frozen=True)
class _Checked:
    connection: AmoCrmConnection
    # True: amoCRM refused the token; False: the token works; None: no verdict.
    refused: bool | None
    retry_after: float | None = None


def _shape_errors(account_id: str, client_uuid: str, signature: str) -> list[dict[str, str]]:
    fields = (
        ("account_id", account_id, ACCOUNT_ID_PATTERN),
        ("client_uuid", client_uuid, CLIENT_UUID_PATTERN),
        ("signature", signature, SIGNATURE_PATTERN),
    )
    return [
        {"field": name, "message": "has an invalid format"}
        for name, value, pattern in fields
        if not pattern.fullmatch(value)
    ]


class DisableHookService:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        client: AmoCrmClient,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._client = client
        self._clock = clock
        self._settings = settings

    async def integration_disabled(
        self, account_id: str, client_uuid: str, signature: str
    ) -> HookOutcome:
        """Handle a signed disable hook. Raises InvalidRequest for a malformed parameter,
        InvalidSignature for a forged one, HookUnverified when amoCRM gave no verdict."""
        client_id = self._settings.amocrm_client_id
        secret = self._settings.amocrm_client_secret
        if not client_id or secret is None:
            raise IntegrationNotConfigured()
        errors = _shape_errors(account_id, client_uuid, signature)
        if errors:
            raise InvalidRequest(details=errors)
        expected = hmac.new(
            secret.get_secret_value().encode(),
            f"{client_uuid}|{account_id}".encode(),
            hashlib.sha256,
        ).hexdigest()
        signature_ok = hmac.compare_digest(expected.encode(), signature.lower().encode())
        client_ok = hmac.compare_digest(client_uuid.encode(), client_id.encode())
        if not (signature_ok and client_ok):
            log.warning("amocrm_disable_hook_rejected")
            raise InvalidSignature()
        account = int(account_id)
        async with self._db.transaction() as session:
            live = await repository.live_connections_of_account(session, account)
        checked = [await self._check(connection) for connection in live]
        revoked = await self._record(account, checked)
        still_working = sum(1 for check in checked if check.refused is False)
        unknown = [check for check in checked if check.refused is None]
        log.info(
            "amocrm_disable_hook",
            account_id=account,
            revoked=revoked,
            still_working=still_working,
            unverified=len(unknown),
        )
        if unknown:
            waits = [check.retry_after for check in unknown if check.retry_after is not None]
            seconds = max(1, int(max(waits, default=_UNVERIFIED_RETRY_AFTER)) + 1)
            raise HookUnverified(headers={"Retry-After": str(seconds)})
        return HookOutcome(revoked=revoked, still_working=still_working)

    async def _check(self, connection: AmoCrmConnection) -> _Checked:
        """Ask amoCRM whether this connection's access token still works."""
        if connection.access_expires_at is None or connection.access_expires_at <= (
            self._clock.now()
        ):
            # An expired token is refused whatever the integration's state: no verdict. Its
            # next refresh learns the truth (a refused refresh token asks for reauthorisation).
            return _Checked(connection, refused=None)
        try:
            access_token = open_token(self._cipher, connection, "access_token")
            await self._client.api_get(
                parse_account_host(connection.account_domain),
                access_token,
                "/api/v4/account",
                account_id=connection.account_id,
            )
        except AmoUnauthorized:
            return _Checked(connection, refused=True)
        except AmoCrmError as error:
            return _Checked(connection, refused=None, retry_after=error.retry_after)
        except TokenKeysUnavailable:
            return _Checked(connection, refused=None)
        return _Checked(connection, refused=False)

    async def _record(self, account: int, checked: list[_Checked]) -> int:
        """Revoke the refused connections and note the unconfirmed ones, in one transaction."""
        if not checked:
            return 0
        now = self._clock.now()
        revoked = 0
        async with self._db.write_transaction() as session:
            for check in checked:
                connection = check.connection
                if check.refused:
                    still_as_checked = await repository.revoke_connection(
                        session,
                        connection.id,
                        expected_version=connection.version,
                        reason=REVOKED_REASON,
                        now=now,
                    )
                    if not still_as_checked:
                        continue  # reconnected, refreshed or revoked since the check
                    revoked += 1
                    kind, reason = EventKind.REVOKED, REVOKED_REASON
                else:
                    kind = EventKind.HOOK_UNCONFIRMED
                    reason = "token_works" if check.refused is False else "no_verdict"
                await repository.add_event(
                    session,
                    user_id=connection.user_id,
                    connection_id=connection.id,
                    kind=kind,
                    reason=reason,
                    account_id=account,
                    now=now,
                )
        return revoked
