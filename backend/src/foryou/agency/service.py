"""The agency connection: set it (a pasted long-lived token, or an admin's own OAuth
connection), show its health, remove it, and the worker's checks (expiry, broker names).

Nothing is stored until a pasted token has passed every check; it is never shown again
(only its last four characters and its expiry).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from foryou.agency import repository
from foryou.agency.gateway import AccountGateway, agency_token_context
from foryou.agency.metrics import AGENCY_TOKEN_EVENTS, AGENCY_TOKEN_EXPIRES_IN
from foryou.agency.models import AgencyConnection, AgencySource, AgencyStatus
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.errors import AppError
from foryou.integrations.amocrm import repository as connections
from foryou.integrations.amocrm.client import AmoCrmClient, read_claims
from foryou.integrations.amocrm.errors import (
    AmoBadResponse,
    AmoCrmError,
    AmoUnauthorized,
    to_app_error,
)
from foryou.integrations.amocrm.models import ConnectionStatus
from foryou.integrations.amocrm.referer import (
    AccountHost,
    RefererInvalid,
    allowed_by_host_alone,
    is_allowed_account,
    parse_account_host,
)
from foryou.integrations.amocrm.service import AccountNotAllowed, IntegrationNotConfigured
from foryou.integrations.amocrm.tokens import TokenProvider, UsableToken
from foryou.logging import get_logger

log = get_logger(__name__)

# A JWT: three base64url parts. Anything else is not a token amoCRM issued.
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
MAX_TOKEN_LENGTH = 8192


class AgencyDomainInvalid(AppError):
    status_code = 400
    code = "agency_domain_invalid"
    message = "The domain is not an amoCRM account address such as reforyou.amocrm.ru."


class AgencyTokenInvalid(AppError):
    status_code = 400
    code = "agency_token_invalid"
    message = "amoCRM does not accept this token for our integration (wrong, expired or revoked)."


class AgencyTokenWrongAccount(AppError):
    status_code = 400
    code = "agency_token_wrong_account"
    message = "The token belongs to another amoCRM account than the domain given."


class AgencyTokenNotAdmin(AppError):
    status_code = 400
    code = "agency_token_not_admin"
    message = "The token's amoCRM user is not an account administrator."


class AgencyConnectionUnusable(AppError):
    status_code = 409
    code = "agency_connection_unusable"
    message = "Your own amoCRM connection is not active; connect amoCRM first."


@dataclass(frozen=True)
class AgencyView:
    """What the admin sees of the agency connection; never the token."""

    health: str  # active | expiring | expired | revoked | none
    source: str | None
    domain: str | None
    account_id: int | None
    amo_user_id: int | None
    amo_user_name: str | None
    expires_at: datetime | None
    token_last4: str | None
    last_checked_at: datetime | None
    expiring_soon: bool


NO_AGENCY = AgencyView("none", None, None, None, None, None, None, None, None, False)


@dataclass
class AgencyCheckCounts:
    warned: int = 0
    expired: int = 0
    names_filled: int = 0


class AgencyService:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        client: AmoCrmClient,
        tokens: TokenProvider,
        gateway: AccountGateway,
        clock: Clock,
        settings: Settings,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._client = client
        self._tokens = tokens
        self._gateway = gateway
        self._clock = clock
        self._settings = settings
        self._warn_before = timedelta(days=settings.agency_token_warning_days)

    # --- set -----------------------------------------------------------------------------

    async def set_long_lived(
        self, admin_id: uuid.UUID | None, domain: str, token: str
    ) -> AgencyView:
        """Check a pasted long-lived token every way we can, then store it sealed."""
        if not self._settings.amocrm_configured:
            raise IntegrationNotConfigured()
        try:
            host = parse_account_host(domain.strip())
        except RefererInvalid:
            raise AgencyDomainInvalid() from None
        allowed = self._settings.amocrm_allowed_accounts
        if allowed_by_host_alone(allowed, host) is False:
            raise AccountNotAllowed()
        token = token.strip()
        if len(token) > MAX_TOKEN_LENGTH or not _JWT.match(token):
            raise AgencyTokenInvalid()
        try:
            # Read, not verified: the signature is amoCRM's and it publishes no key. amoCRM
            # itself verifies the token on the calls below.
            claims = read_claims(token)
        except AmoBadResponse:
            raise AgencyTokenInvalid() from None
        now = self._clock.now()
        if claims.audience != self._settings.amocrm_client_id:
            raise AgencyTokenInvalid("The token was not issued for this integration.")
        if claims.expires_at is None or claims.expires_at <= now.timestamp():
            raise AgencyTokenInvalid("The token has expired.")
        if (
            claims.base_domain != host.base_domain
            or claims.account_id is None
            or claims.user_id is None
        ):
            raise AgencyTokenWrongAccount()
        try:
            account = await self._client.get_account(host, token)
        except AmoUnauthorized:
            raise AgencyTokenInvalid() from None
        except AmoCrmError as error:
            raise to_app_error(error) from None
        if (
            account.id != claims.account_id
            or account.subdomain != host.subdomain
            or account.current_user_id != claims.user_id
        ):
            raise AgencyTokenWrongAccount()
        if not is_allowed_account(allowed, host, account.id):
            raise AccountNotAllowed()
        is_admin, name = await self._amo_user(host, token, account.current_user_id, account.id)
        if not is_admin:
            raise AgencyTokenNotAdmin()
        agency_id = uuid.uuid4()
        agency = AgencyConnection(
            id=agency_id,
            account_id=account.id,
            account_domain=host.host,
            source=AgencySource.LONG_LIVED_TOKEN.value,
            status=AgencyStatus.ACTIVE.value,
            amo_user_id=account.current_user_id,
            amo_user_name=name,
            token_key_id=self._cipher.current_key_id,
            token_enc=self._cipher.encrypt(token, agency_token_context(agency_id, account.id)),
            token_last4=token[-4:],
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
            last_checked_at=now,
            set_by=admin_id,
            created_at=now,
            updated_at=now,
        )
        return await self._store(agency)

    async def use_my_connection(self, admin_id: uuid.UUID) -> AgencyView:
        """The calling admin's own OAuth connection becomes the agency connection, when its
        amoCRM user is an account administrator."""
        async with self._db.transaction() as session:
            own = await connections.get_connection_for_user(session, admin_id)
        if own is None or own.status != ConnectionStatus.ACTIVE.value or own.token_key_id is None:
            raise AgencyConnectionUnusable()

        async def read_self(token: UsableToken) -> tuple[bool, str | None]:
            return await self._amo_user(
                token.host, token.access_token, token.amo_user_id, token.account_id
            )

        try:
            is_admin, name = await self._tokens.call(admin_id, read_self)
        except AmoCrmError as error:
            raise to_app_error(error) from None
        if not is_admin:
            raise AgencyTokenNotAdmin()
        now = self._clock.now()
        return await self._store(
            AgencyConnection(
                id=uuid.uuid4(),
                account_id=own.account_id,
                account_domain=own.account_domain,
                source=AgencySource.OAUTH.value,
                status=AgencyStatus.ACTIVE.value,
                connection_id=own.id,
                amo_user_id=own.amo_user_id,
                amo_user_name=name or own.amo_user_name,
                last_checked_at=now,
                set_by=admin_id,
                created_at=now,
                updated_at=now,
            )
        )

    async def _store(self, agency: AgencyConnection) -> AgencyView:
        async with self._db.write_transaction() as session:
            await repository.replace(session, agency)
        log.info("agency_connection_set", account_id=agency.account_id, source=agency.source)
        await self._fill_names(agency.account_id)
        return await self.show(agency.account_id)

    async def _amo_user(
        self, host: AccountHost, token: str, user_id: int, account_id: int
    ) -> tuple[bool, str | None]:
        """Whether the amoCRM user is an account admin, and their name."""
        try:
            profile = await self._client.get_user_profile(host, token, user_id, account_id)
        except AmoUnauthorized:
            raise AgencyTokenInvalid() from None
        except AmoCrmError as error:
            raise to_app_error(error) from None
        return profile.is_admin, profile.name

    # --- show, remove ----------------------------------------------------------------------

    async def show(self, account_id: int | None = None) -> AgencyView:
        """The agency connection of `account_id`, or the most recently set one."""
        async with self._db.transaction() as session:
            rows = await repository.list_all(session)
            agency = next(
                (row for row in rows if account_id is None or row.account_id == account_id), None
            )
            owner = (
                await connections.get_connection(session, agency.connection_id)
                if agency is not None and agency.connection_id is not None
                else None
            )
        if agency is None:
            return NO_AGENCY
        owner_active = owner is not None and owner.status == ConnectionStatus.ACTIVE.value
        health = self._health(agency, owner_active)
        return AgencyView(
            health=health,
            source=agency.source,
            domain=agency.account_domain,
            account_id=agency.account_id,
            amo_user_id=agency.amo_user_id,
            amo_user_name=agency.amo_user_name,
            expires_at=agency.expires_at,
            token_last4=agency.token_last4,
            last_checked_at=agency.last_checked_at,
            expiring_soon=health == "expiring",
        )

    def _health(self, agency: AgencyConnection, owner_active: bool) -> str:
        if agency.status != AgencyStatus.ACTIVE.value:
            return agency.status
        if agency.source == AgencySource.OAUTH.value:
            return "active" if owner_active else "revoked"
        now = self._clock.now()
        if agency.expires_at is None or agency.expires_at <= now:
            return "expired"
        return "expiring" if agency.expires_at - now <= self._warn_before else "active"

    async def remove(self, account_id: int | None = None) -> int:
        async with self._db.transaction() as session:
            removed = await repository.remove(session, account_id)
        log.info("agency_connection_removed", removed=removed)
        return removed

    # --- the worker's checks -----------------------------------------------------------------

    async def run_checks(self) -> AgencyCheckCounts:
        """Warn from `agency_token_warning_days` before a long-lived token expires (once),
        mark it expired at expiry, and fill brokers' names from the users catalogue."""
        counts = AgencyCheckCounts()
        now = self._clock.now()
        async with self._db.transaction() as session:
            for agency in await repository.list_all(session):
                if agency.expires_at is not None and agency.status == AgencyStatus.ACTIVE.value:
                    AGENCY_TOKEN_EXPIRES_IN.labels(str(agency.account_id)).set(
                        max(0.0, (agency.expires_at - now).total_seconds())
                    )
            for agency in await repository.expired_active(session, now):
                if await repository.mark(session, agency.id, AgencyStatus.EXPIRED, now):
                    counts.expired += 1
                    AGENCY_TOKEN_EVENTS.labels("expired").inc()
                    log.warning("agency_token_expired", account_id=agency.account_id)
            for agency in await repository.expiring_unwarned(session, now + self._warn_before):
                await repository.mark_warned(session, agency.id, now)
                counts.warned += 1
                AGENCY_TOKEN_EVENTS.labels("expiring").inc()
                log.warning(
                    "agency_token_expiring",
                    account_id=agency.account_id,
                    expires_at=agency.expires_at.isoformat() if agency.expires_at else None,
                )
            accounts = await repository.accounts_missing_names(session)
        for account_id in accounts:
            counts.names_filled += await self._fill_names(account_id)
        return counts

    async def _fill_names(self, account_id: int) -> int:
        """Brokers' amoCRM names from the catalogue (a broker may not read their own)."""
        names = await self._gateway.user_names(account_id)
        if not names:
            return 0
        async with self._db.transaction() as session:
            return await repository.fill_broker_names(session, account_id, names)
