"""The connect flow (DESIGN §2), status, disconnect and amoCRM's disable hook.

No web framework here: the router turns results and AppErrors into HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from foryou.auth.service import admit
from foryou.auth.tokens import TokenSubject
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crypto import TokenCipher
from foryou.db import Database
from foryou.errors import AppError
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.client import AmoCrmClient
from foryou.integrations.amocrm.errors import (
    AmoBadResponse,
    AmoClientRejected,
    AmoCrmError,
    AmoGrantRejected,
    AmoTimeout,
    AmoUnavailable,
    to_app_error,
)
from foryou.integrations.amocrm.models import (
    AmoCrmConnection,
    AmoCrmOAuthFlow,
    ClientKind,
    ConnectionStatus,
    EventKind,
)
from foryou.integrations.amocrm.referer import (
    AccountHost,
    RefererInvalid,
    allowed_by_host_alone,
    is_allowed_account,
    parse_account_host,
)
from foryou.integrations.amocrm.tokens import seal_pair
from foryou.logging import get_logger

log = get_logger(__name__)

STATE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,4096}$")


# --- errors the flow reports (the code reaches the app; the status is for JSON callers) ----


_FLOW_RATE_WINDOW = timedelta(minutes=1)


class FlowError(AppError):
    status_code = 400


class StateInvalid(FlowError):
    code = "amo_state_invalid"
    message = "This connection attempt is not valid any more; start again."


class StateExpired(FlowError):
    code = "amo_state_expired"
    message = "This connection attempt has expired; start again."


class BinderMismatch(FlowError):
    code = "amo_binder_mismatch"
    message = "This connection attempt was started in another browser; start again."


class AccessDenied(FlowError):
    code = "amo_access_denied"
    message = "Access was not granted in amoCRM."


class RefererRejected(FlowError):
    code = "amo_referer_invalid"
    message = "amoCRM sent an account address we do not accept."


class AccountNotAllowed(FlowError):
    status_code = 403
    code = "amo_account_not_allowed"
    message = "This amoCRM account is not allowed here."


class CodeInvalid(FlowError):
    code = "amo_code_invalid"
    message = "amoCRM did not accept the authorisation code; start again."


class ExchangeFailed(FlowError):
    status_code = 502
    code = "amo_exchange_failed"
    message = "Connecting to amoCRM failed; try again."


class TooManyFlows(AppError):
    status_code = 429
    code = "too_many_requests"
    message = "Too many connection attempts; wait a minute and try again."


class ReturnTargetUnavailable(AppError):
    status_code = 400
    code = "return_target_unavailable"
    message = "The web return address is not configured on this server."


class IntegrationNotConfigured(AppError):
    status_code = 503
    code = "amo_not_configured"
    message = "The amoCRM integration is not configured on this server."


class InvalidSignature(AppError):
    status_code = 401
    code = "invalid_signature"
    message = "The hook signature is not valid."


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeResult:
    authorize_url: str
    expires_at: datetime


@dataclass(frozen=True)
class BrowserBinder:
    """The browser callback: the binder cookie `oauth/start` set ties it to whoever started."""

    binder: str | None


@dataclass(frozen=True)
class AppCaller:
    """exchange-code: the signed-in app user must be the one who started the flow."""

    user_id: uuid.UUID


# Who completes a flow: exactly one of the two, by type.
FlowOwner = BrowserBinder | AppCaller


@dataclass(frozen=True)
class SetBinder:
    """Set the binder cookie to `value` (on the way to amoCRM's consent page)."""

    value: str


@dataclass(frozen=True)
class ClearBinder:
    """Delete the binder cookie (on the way back to the app)."""


@dataclass(frozen=True)
class BrowserRedirect:
    """What a browser route answers: a redirect to `location`; when it goes back to the app,
    the `outcome` ("connected" or "error") and error `code` the page shows."""

    location: str
    cookie: SetBinder | ClearBinder | None = None
    outcome: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class BinderCookie:
    """How the binder cookie is named and flagged on this deployment."""

    name: str
    secure: bool
    max_age: int


@dataclass(frozen=True)
class StatusView:
    connected: bool
    has_tokens: bool
    domain: str | None
    account_id: int | None
    state: str
    reason: str | None
    amo_user_id: int | None
    amo_user_name: str | None
    connected_at: datetime | None


NOT_CONNECTED = StatusView(False, False, None, None, "not_connected", None, None, None, None)


@dataclass(frozen=True)
class CallbackInput:
    """The raw query of amoCRM's redirect (or the exchange-code body)."""

    state: str | None
    code: str | None = None
    referer: str | None = None
    platform: str | None = None
    error: str | None = None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def status_of(connection: AmoCrmConnection | repository.ConnectionStanding | None) -> StatusView:
    if connection is None or connection.status == ConnectionStatus.DISCONNECTED.value:
        return NOT_CONNECTED
    active = connection.status == ConnectionStatus.ACTIVE.value
    has_tokens = connection.token_key_id is not None
    reason = connection.reason
    if connection.status == ConnectionStatus.REVOKED.value:
        reason = reason or "integration_disabled"
    return StatusView(
        connected=active and has_tokens,
        has_tokens=has_tokens,
        domain=connection.account_domain,
        account_id=connection.account_id,
        state="connected" if active and has_tokens else "reauth_required",
        reason=None if active else reason,
        amo_user_id=connection.amo_user_id,
        amo_user_name=connection.amo_user_name,
        connected_at=connection.connected_at,
    )


class ConnectionService:
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
        production = settings.is_production
        self.binder_cookie = BinderCookie(
            # `__Host-` requires Secure, which a plain-http loopback demo cannot set.
            name="__Host-foryou_amo_flow" if production else "foryou_amo_flow",
            secure=production,
            max_age=settings.oauth_flow_ttl_seconds,
        )

    # --- authorize and start -----------------------------------------------------------

    async def authorize(self, user_id: uuid.UUID, client: ClientKind) -> AuthorizeResult:
        if not self._settings.amocrm_configured:
            raise IntegrationNotConfigured()
        if client == ClientKind.WEB and not self._settings.web_return_url:
            raise ReturnTargetUnavailable()
        now = self._clock.now()
        flow = AmoCrmOAuthFlow(
            id=uuid.uuid4(),
            user_id=user_id,
            client=client.value,
            created_at=now,
            expires_at=now + timedelta(seconds=self._settings.oauth_flow_ttl_seconds),
        )
        async with self._db.transaction() as session:
            recent = await repository.count_flows_since(session, user_id, now - _FLOW_RATE_WINDOW)
            if recent >= self._settings.oauth_flows_per_minute:
                raise TooManyFlows(headers={"Retry-After": str(_FLOW_RATE_WINDOW.seconds)})
            await repository.add_flow(session, flow)
        url = f"{self._settings.public_url}/api/v1/integrations/amo-crm/oauth/start"
        return AuthorizeResult(f"{url}?{urlencode({'flow': str(flow.id)})}", flow.expires_at)

    async def start_in_browser(self, flow: str | None) -> BrowserRedirect:
        """`oauth/start`: give the browser its binder and send it to amoCRM's consent page
        (once per flow), or back to the app with the reason it cannot go."""
        try:
            flow_id = uuid.UUID(flow or "")
        except ValueError:
            return self._back_to_app(None, StateInvalid())
        now = self._clock.now()
        state = secrets.token_urlsafe(32)
        binder = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            started = await repository.start_flow(
                session, flow_id, _sha256(state), _sha256(binder), now
            )
            unstartable = None if started else await repository.get_flow(session, flow_id)
        if not started:
            expired = unstartable is not None and unstartable.expires_at <= now
            return self._back_to_app(unstartable, StateExpired() if expired else StateInvalid())
        query = urlencode(
            {"client_id": self._settings.amocrm_client_id, "state": state, "mode": "post_message"}
        )
        base = self._settings.amocrm_upstream_url or f"https://{self._settings.amocrm_consent_host}"
        return BrowserRedirect(location=f"{base}/oauth?{query}", cookie=SetBinder(binder))

    def _back_to_app(
        self,
        flow: AmoCrmOAuthFlow | None,
        error: AppError | None,
        cookie: ClearBinder | None = None,
    ) -> BrowserRedirect:
        """Back to the app with the outcome; where to is chosen by configuration and the
        flow's client only, never by anything in the request."""
        return_url = self._settings.app_return_url
        if flow is not None and flow.client == ClientKind.WEB.value:
            return_url = self._settings.web_return_url or return_url
        outcome = "connected" if error is None else "error"
        query = {"status": outcome} if error is None else {"status": outcome, "code": error.code}
        return BrowserRedirect(
            location=f"{return_url}?{urlencode(query)}",
            outcome=outcome,
            code=None if error is None else error.code,
            cookie=cookie,
        )

    # --- completion (the browser callback and exchange-code share it) ---------------------

    async def complete_in_browser(
        self, params: CallbackInput, binder: str | None
    ) -> BrowserRedirect:
        """`oauth/callback`: complete the flow amoCRM redirected back, and say where the
        browser goes with which outcome. The flow is read once, when its state is consumed."""
        owner = BrowserBinder(binder)
        # Whatever the outcome, the binder has done its job.
        done = ClearBinder()
        flow, refusal = await self._consume_state(params.state, owner)
        if refusal is not None:
            return self._back_to_app(flow, refusal, done)
        assert flow is not None
        try:
            await self._complete(flow, params, owner)
        except AppError as error:
            return self._back_to_app(flow, error, done)
        return self._back_to_app(flow, None, done)

    async def exchange_code(self, params: CallbackInput, user_id: uuid.UUID) -> StatusView:
        """`exchange-code`: the app hands over what amoCRM gave it; the signed-in user must be
        the one who started the flow."""
        flow, refusal = await self._consume_state(params.state, AppCaller(user_id))
        if refusal is not None:
            raise refusal
        assert flow is not None
        return await self._complete(flow, params, AppCaller(user_id))

    async def _consume_state(
        self, state: str | None, owner: FlowOwner
    ) -> tuple[AmoCrmOAuthFlow | None, AppError | None]:
        """Read the flow of `state` and consume it, in its own committed transaction: the
        state is dead before amoCRM is ever called.

        Returns the flow as read (None when no flow has this state) and, when the flow cannot
        be completed, why; the browser callback needs the flow for its return address either way.
        """
        unconfigured = None if self._settings.amocrm_configured else IntegrationNotConfigured()
        if state is None or not STATE_PATTERN.match(state):
            return None, unconfigured or StateInvalid()
        now = self._clock.now()
        expired = False
        async with self._db.write_transaction() as session:
            flow = await repository.get_flow_by_state(session, _sha256(state))
            if flow is None:
                return None, unconfigured or StateInvalid()
            if unconfigured is not None:
                return flow, unconfigured
            if isinstance(owner, AppCaller) and flow.user_id != owner.user_id:
                # Someone else's state: refused without touching it.
                return flow, StateInvalid()
            consumed = await repository.consume_flow(session, flow.id, now)
            if not consumed and flow.used_at is None and flow.expires_at <= now:
                await repository.kill_flow(session, flow.id, now)
                expired = True
        if not consumed:
            return flow, StateExpired() if expired else StateInvalid()
        return flow, None

    async def _complete(
        self, flow: AmoCrmOAuthFlow, params: CallbackInput, owner: FlowOwner
    ) -> StatusView:
        """Check everything about a consumed flow, exchange the code, verify, store."""
        if isinstance(owner, BrowserBinder) and not self._binder_matches(flow, owner.binder):
            raise BinderMismatch()
        if params.error is not None:
            raise AccessDenied()
        if params.code is None or not CODE_PATTERN.match(params.code):
            raise CodeInvalid()
        try:
            host = parse_account_host(params.referer or "", params.platform)
        except RefererInvalid:
            log.warning("amocrm_referer_rejected", flow_id=str(flow.id))
            raise RefererRejected() from None
        allowed = self._settings.amocrm_allowed_accounts
        if allowed_by_host_alone(allowed, host) is False:
            raise AccountNotAllowed()
        return await self._exchange_and_store(flow, host, params.code)

    @staticmethod
    def _binder_matches(flow: AmoCrmOAuthFlow, binder: str | None) -> bool:
        if flow.binder_hash is None or not binder or len(binder) > 256:
            return False
        return hmac.compare_digest(flow.binder_hash, _sha256(binder))

    async def _exchange_and_store(
        self, flow: AmoCrmOAuthFlow, host: AccountHost, code: str
    ) -> StatusView:
        try:
            grant = await self._client.exchange_code(host, code)
        except AmoGrantRejected as error:
            log.warning("amocrm_code_rejected", status=error.status, hint=error.hint)
            raise CodeInvalid() from None
        except AmoClientRejected:
            log.error("amocrm_client_rejected", check="client id, secret and Redirect URI")
            raise ExchangeFailed() from None
        except AmoCrmError as error:
            raise self._exchange_error(error) from None
        claims = grant.claims
        if (
            claims.audience != self._settings.amocrm_client_id
            or claims.base_domain != host.base_domain
            or claims.account_id is None
            or claims.user_id is None
        ):
            log.error("amocrm_token_claims_mismatch", account_domain=host.host)
            raise ExchangeFailed()
        try:
            account = await self._client.get_account(host, grant.access_token)
            profile = await self._client.get_user_profile(
                host, grant.access_token, account.current_user_id, account.id
            )
        except AmoCrmError as error:
            raise self._exchange_error(error) from None
        if (
            account.id != claims.account_id
            or account.subdomain != host.subdomain
            or account.current_user_id != claims.user_id
        ):
            log.error("amocrm_account_mismatch", account_domain=host.host)
            raise ExchangeFailed()
        if not is_allowed_account(self._settings.amocrm_allowed_accounts, host, account.id):
            raise AccountNotAllowed()
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            connection = await repository.get_connection_for_user(session, flow.user_id)
            if connection is None:
                connection = AmoCrmConnection(
                    id=uuid.uuid4(),
                    user_id=flow.user_id,
                    status=ConnectionStatus.DISCONNECTED.value,
                    account_id=account.id,
                    account_domain=host.host,
                    base_domain=host.base_domain,
                    amo_user_id=account.current_user_id,
                    version=0,
                    created_at=now,
                    updated_at=now,
                )
                await repository.add_connection(session, connection)
            pair = seal_pair(
                self._cipher,
                connection_id=connection.id,
                user_id=flow.user_id,
                grant=grant,
                now=now,
            )
            await repository.store_connected(
                session,
                connection.id,
                pair=pair,
                account_id=account.id,
                account_domain=host.host,
                base_domain=host.base_domain,
                amo_user_id=account.current_user_id,
                amo_user_name=profile.name,
                amo_user_is_admin=profile.is_admin,
                now=now,
            )
            await repository.add_event(
                session,
                user_id=flow.user_id,
                connection_id=connection.id,
                kind=EventKind.CONNECTED,
                account_id=account.id,
                now=now,
            )
            stored = await repository.get_connection(session, connection.id)
        log.info("amocrm_connected", connection_id=str(connection.id), account_id=account.id)
        return status_of(stored)

    @staticmethod
    def _exchange_error(error: AmoCrmError) -> AppError:
        """While connecting, only a timeout or a refusal that names its wait keeps amoCRM's
        own code (and `Retry-After`); anything else means the connection did not happen."""
        if isinstance(error, AmoTimeout) or (
            isinstance(error, AmoUnavailable) and error.retry_after is not None
        ):
            return to_app_error(error)
        if isinstance(error, AmoBadResponse | AmoUnavailable):
            log.warning("amocrm_exchange_failed", error_type=type(error).__name__)
        return ExchangeFailed()

    # --- status, disconnect, disable hook ------------------------------------------------

    async def status(self, subject: TokenSubject) -> StatusView:
        """The caller's connection status; the user is read and admitted in the same query
        (one database round trip for the endpoint the app polls most)."""
        async with self._db.read() as connection:
            user, standing = await repository.get_user_and_standing(connection, subject.user_id)
        admit(user, crm_only=True)
        return status_of(standing)

    async def disconnect(self, user_id: uuid.UUID) -> None:
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            connection = await repository.disconnect_user(session, user_id, now)
            if connection is not None:
                await repository.add_event(
                    session,
                    user_id=user_id,
                    connection_id=connection.id,
                    kind=EventKind.DISCONNECTED,
                    account_id=connection.account_id,
                    now=now,
                )

    async def integration_disabled(self, account_id: str, client_uuid: str, signature: str) -> int:
        """amoCRM's signed disable hook; returns how many connections were revoked."""
        client_id = self._settings.amocrm_client_id
        secret = self._settings.amocrm_client_secret
        if not client_id or secret is None:
            raise IntegrationNotConfigured()
        expected = hmac.new(
            secret.get_secret_value().encode(),
            f"{client_uuid}|{account_id}".encode(),
            hashlib.sha256,
        ).hexdigest()
        signature_ok = hmac.compare_digest(expected, signature.lower())
        client_ok = hmac.compare_digest(client_uuid.encode(), client_id.encode())
        if not (signature_ok and client_ok) or not account_id.isdigit():
            log.warning("amocrm_disable_hook_rejected")
            raise InvalidSignature()
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            affected = await repository.revoke_account(
                session, int(account_id), "integration_disabled", now
            )
            for connection_id, user_id in affected:
                await repository.add_event(
                    session,
                    user_id=user_id,
                    connection_id=connection_id,
                    kind=EventKind.REVOKED,
                    reason="integration_disabled",
                    account_id=int(account_id),
                    now=now,
                )
        log.info("amocrm_integration_disabled", account_id=int(account_id), revoked=len(affected))
        return len(affected)
