"""The connect flow (DESIGN §2), status and disconnect (the disable hook is in `hook.py`).

No web framework here: the router turns results and AppErrors into HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from foryou.auth.service import admit
from foryou.auth.tokens import TokenSubject
from foryou.clock import Clock
from foryou.config import Settings
from foryou.crypto import DecryptionError, TokenCipher
from foryou.db import Database
from foryou.errors import AppError
from foryou.integrations.amocrm import repository
from foryou.integrations.amocrm.client import AmoCrmClient, TokenGrant
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
from foryou.integrations.amocrm.tokens import (
    REFRESH_TOKEN_LIFETIME,
    TokenBinding,
    open_tokens,
    seal_tokens,
)
from foryou.logging import get_logger

log = get_logger(__name__)

STATE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,4096}$")


# --- errors the flow reports (the code reaches the app; the status is for JSON callers) ----


_FLOW_RATE_WINDOW = timedelta(minutes=1)
#: How long the callback's verified result waits on the flow for its owner's ticket.
PENDING_RESULT_TTL = timedelta(minutes=10)


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


class TicketInvalid(FlowError):
    code = "amo_ticket_invalid"
    message = "This connection cannot be finished any more; start connecting again."


class TicketExpired(FlowError):
    code = "amo_ticket_expired"
    message = "This connection took too long to finish; start connecting again."


class FlowNotYours(AppError):
    status_code = 403
    code = "amo_flow_not_yours"
    message = (
        "This connection link was started from another ForYou account. "
        "Start connecting from your own app."
    )


class AmoUserAlreadyLinked(AppError):
    status_code = 409
    code = "amo_user_already_linked"
    message = (
        "This amoCRM user is already connected to another ForYou account. "
        "Ask your agency's admin to unlink it."
    )


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
class ConsentPage:
    """`oauth/start`: the page naming whose ForYou account the connection is for (the e-mail
    masked), with the link on to amoCRM's consent page; the binder cookie goes with it."""

    consent_url: str
    holder_name: str | None
    holder_email: str
    cookie: SetBinder


@dataclass(frozen=True)
class BrowserRedirect:
    """Back to the app that started the flow, at `location`: the result is pending there
    (`code` None) or the flow failed with `code`."""

    location: str
    code: str | None
    cookie: ClearBinder | None = None


@dataclass(frozen=True)
class FlowUnknown:
    """No flow can be tied to the request, so there is no app known to send the browser
    back to; `web_app_url` is the web app (when this server has one) to try from."""

    code: str
    web_app_url: str | None
    status_code: int = 400


BrowserOutcome = ConsentPage | BrowserRedirect | FlowUnknown


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
    # An admin asked this broker to connect again (and has not seen them do it yet).
    reconnect_requested: bool = False
    reconnect_note: str | None = None


NOT_CONNECTED = StatusView(False, False, None, None, "not_connected", None, None, None, None)


def reconnect_pending(
    reconnect: repository.ReconnectRequest | None, connected_at: datetime | None
) -> bool:
    """A request stands until the broker's next connection after it."""
    return reconnect is not None and (connected_at is None or connected_at < reconnect.requested_at)


@dataclass(frozen=True)
class CallbackInput:
    """The raw query of amoCRM's redirect (or the exchange-code body)."""

    state: str | None
    code: str | None = None
    referer: str | None = None
    platform: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class VerifiedConnect:
    """A token pair from amoCRM and the identity cross-checked against it."""

    grant: TokenGrant
    host: AccountHost
    account_id: int
    amo_user_id: int
    amo_user_name: str | None
    amo_user_is_admin: bool


@dataclass(frozen=True)
class NewLink:
    """What a connection is (re)written with: the identity and the plain token pair."""

    account_id: int
    account_domain: str
    base_domain: str
    amo_user_id: int
    amo_user_name: str | None
    amo_user_is_admin: bool
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime

    def __repr__(self) -> str:
        return f"NewLink(account_id={self.account_id}, amo_user_id={self.amo_user_id})"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def mask_email(email: str) -> str:
    """`olena@foryou.example` → `o***a@foryou.example`: enough to recognise one's own."""
    local, _, domain = email.partition("@")
    masked = f"{local[:1]}***{local[-1:] if len(local) > 1 else ''}"
    return f"{masked}@{domain}"


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


# Told the account of a connection just stored whose amoCRM user is an account admin (the
# composition root wires webhook registration here; this feature knows nothing of it).
OnAdminConnected = Callable[[int], Awaitable[None]]


class ConnectionService:
    def __init__(
        self,
        *,
        db: Database,
        cipher: TokenCipher,
        client: AmoCrmClient,
        clock: Clock,
        settings: Settings,
        on_admin_connected: OnAdminConnected | None = None,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._client = client
        self._clock = clock
        self._settings = settings
        self._on_admin_connected = on_admin_connected
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
        # Counting and adding in one write transaction: the count is still true at the write.
        async with self._db.write_transaction() as session:
            recent = await repository.count_flows_since(session, user_id, now - _FLOW_RATE_WINDOW)
            if recent >= self._settings.oauth_flows_per_minute:
                raise TooManyFlows(headers={"Retry-After": str(_FLOW_RATE_WINDOW.seconds)})
            await repository.add_flow(session, flow)
        url = f"{self._settings.public_url}/api/v1/integrations/amo-crm/oauth/start"
        return AuthorizeResult(f"{url}?{urlencode({'flow': str(flow.id)})}", flow.expires_at)

    async def start_in_browser(self, flow: str | None) -> BrowserOutcome:
        """`oauth/start`: give the browser its binder and the page that names whose account
        the connection is for, with the consent link (once per flow: the state exists only
        in that link, so a second opening gets the "already used" answer instead)."""
        try:
            flow_id = uuid.UUID(flow or "")
        except ValueError:
            return self.flow_unknown(StateInvalid())
        now = self._clock.now()
        state = secrets.token_urlsafe(32)
        binder = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            started = await repository.start_flow(
                session, flow_id, _sha256(state), _sha256(binder), now
            )
            holder = await repository.get_flow_holder(session, flow_id) if started else None
            unstartable = None if started else await repository.get_flow(session, flow_id)
        if holder is None:
            if unstartable is None:
                return self.flow_unknown(StateInvalid())
            expired = unstartable.expires_at <= now
            return self._back_to_app(unstartable, StateExpired() if expired else StateInvalid())
        query = urlencode(
            {"client_id": self._settings.amocrm_client_id, "state": state, "mode": "post_message"}
        )
        base = self._settings.amocrm_upstream_url or f"https://{self._settings.amocrm_consent_host}"
        return ConsentPage(
            consent_url=f"{base}/oauth?{query}",
            holder_name=holder.name,
            holder_email=mask_email(holder.email),
            cookie=SetBinder(binder),
        )

    def flow_unknown(self, error: AppError) -> FlowUnknown:
        """The answer for a browser whose request names no flow we know (or cannot be read)."""
        web = self._settings.web_return_url
        query = urlencode({"status": "error", "code": error.code})
        return FlowUnknown(
            code=error.code,
            web_app_url=f"{web}?{query}" if web else None,
            status_code=error.status_code if error.status_code >= 400 else 400,
        )

    def _back_to_app(
        self,
        flow: AmoCrmOAuthFlow,
        error: AppError | None,
        cookie: ClearBinder | None = None,
        ticket: str | None = None,
    ) -> BrowserRedirect:
        """Back to the app with the outcome; where to is chosen by configuration and the
        flow's client only, never by anything in the request."""
        return_url = self._settings.app_return_url
        if flow.client == ClientKind.WEB.value:
            return_url = self._settings.web_return_url or return_url
        if error is None:
            assert ticket is not None
            query = {"status": "pending", "ticket": ticket}
        else:
            query = {"status": "error", "code": error.code}
        return BrowserRedirect(
            location=f"{return_url}?{urlencode(query)}",
            code=None if error is None else error.code,
            cookie=cookie,
        )

    # --- completion (the browser callback and exchange-code share it) ---------------------

    async def complete_in_browser(
        self, params: CallbackInput, binder: str | None
    ) -> BrowserOutcome:
        """`oauth/callback`: verify what amoCRM redirected back, keep the result pending on
        the flow, and send the browser back to the app with the one-time ticket that only
        the flow's owner can redeem. The flow is read once, when its state is consumed."""
        owner = BrowserBinder(binder)
        # Whatever the outcome, the binder has done its job.
        done = ClearBinder()
        flow, refusal = await self._consume_state(params.state, owner)
        if flow is None:
            return self.flow_unknown(refusal or StateInvalid())
        if refusal is not None:
            return self._back_to_app(flow, refusal, done)
        try:
            verified = await self._verify(flow, params, owner)
        except AppError as error:
            return self._back_to_app(flow, error, done)
        ticket = await self._hold_pending(flow, verified)
        return self._back_to_app(flow, None, done, ticket=ticket)

    async def exchange_code(self, params: CallbackInput, user_id: uuid.UUID) -> StatusView:
        """`exchange-code`: the app hands over what amoCRM gave it; the signed-in user must be
        the one who started the flow, so the result becomes their connection at once."""
        flow, refusal = await self._consume_state(params.state, AppCaller(user_id))
        if refusal is not None:
            raise refusal
        assert flow is not None
        verified = await self._verify(flow, params, AppCaller(user_id))
        now = self._clock.now()
        link = NewLink(
            account_id=verified.account_id,
            account_domain=verified.host.host,
            base_domain=verified.host.base_domain,
            amo_user_id=verified.amo_user_id,
            amo_user_name=verified.amo_user_name,
            amo_user_is_admin=verified.amo_user_is_admin,
            access_token=verified.grant.access_token,
            refresh_token=verified.grant.refresh_token,
            access_expires_at=now + timedelta(seconds=verified.grant.expires_in),
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
        )
        async with self._linking(user_id, lambda: link), self._db.write_transaction() as session:
            stored = await self._link(session, user_id, link, now)
        await self._connected(stored)
        return status_of(stored)

    async def _hold_pending(self, flow: AmoCrmOAuthFlow, verified: VerifiedConnect) -> str:
        """Keep the verified result on the flow, sealed to it, until the owner redeems the
        ticket returned here (only its hash is stored; the ticket is never logged)."""
        ticket = secrets.token_urlsafe(32)
        now = self._clock.now()
        sealed = seal_tokens(
            self._cipher,
            bound_to=TokenBinding(flow.id, flow.user_id, pending=True),
            access_token=verified.grant.access_token,
            refresh_token=verified.grant.refresh_token,
            access_expires_at=now + timedelta(seconds=verified.grant.expires_in),
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
        )
        pending = repository.PendingResult(
            ticket_hash=_sha256(ticket),
            until=now + PENDING_RESULT_TTL,
            key_id=sealed.key_id,
            access_token_enc=sealed.access_token_enc,
            refresh_token_enc=sealed.refresh_token_enc,
            access_expires_at=sealed.access_expires_at,
            account_id=verified.account_id,
            account_domain=verified.host.host,
            base_domain=verified.host.base_domain,
            amo_user_id=verified.amo_user_id,
            amo_user_name=verified.amo_user_name,
            amo_user_is_admin=verified.amo_user_is_admin,
        )
        async with self._db.transaction() as session:
            await repository.store_pending(session, flow.id, pending)
        log.info("amocrm_connect_pending", flow_id=str(flow.id), account_id=verified.account_id)
        return ticket

    async def complete(self, ticket: str, user_id: uuid.UUID) -> StatusView:
        """`complete`: the flow's owner redeems the callback's ticket, and the pending result
        becomes their connection. Anyone else kills the flow: the browser that consented
        was not the owner's, so nobody may redeem it."""
        if not STATE_PATTERN.match(ticket):
            raise TicketInvalid()
        now = self._clock.now()
        refusal: AppError | None = None
        link: NewLink | None = None
        stored: AmoCrmConnection | None = None
        async with self._linking(user_id, lambda: link), self._db.write_transaction() as session:
            flow = await repository.get_flow_by_ticket(session, _sha256(ticket))
            if flow is None or flow.pending_until is None:
                raise TicketInvalid()
            if flow.user_id != user_id:
                await self._refuse_hijack(session, flow, user_id, now)
                refusal = FlowNotYours()
            elif flow.pending_until <= now:
                await repository.take_pending(session, flow.id)
                refusal = TicketExpired()
            else:
                link = self._pending_link(flow)
                if not await repository.take_pending(session, flow.id):
                    raise TicketInvalid()
                stored = await self._link(session, user_id, link, now)
        if refusal is not None:
            raise refusal
        await self._connected(stored)
        return status_of(stored)

    async def _connected(self, stored: AmoCrmConnection | None) -> None:
        """After the connection is committed: an admin's one lets the account be followed."""
        if self._on_admin_connected is not None and stored is not None and stored.amo_user_is_admin:
            await self._on_admin_connected(stored.account_id)

    async def _refuse_hijack(
        self, session: AsyncSession, flow: AmoCrmOAuthFlow, caller: uuid.UUID, now: datetime
    ) -> None:
        if await repository.take_pending(session, flow.id):
            await repository.add_event(
                session,
                user_id=flow.user_id,
                connection_id=None,
                kind=EventKind.FLOW_HIJACK_REFUSED,
                reason=f"caller:{caller}",
                account_id=flow.pending_account_id,
                now=now,
            )
        log.warning(
            "amocrm_flow_hijack_refused",
            flow_id=str(flow.id),
            owner_id=str(flow.user_id),
            caller_id=str(caller),
        )

    def _pending_link(self, flow: AmoCrmOAuthFlow) -> NewLink:
        """The flow's pending result, opened; a pair no configured key opens is as good as
        gone (a key was removed while it waited)."""
        assert flow.pending_until is not None
        try:
            access_token, refresh_token = open_tokens(
                self._cipher,
                repository.SealedPair(
                    key_id=flow.pending_key_id or "",
                    access_token_enc=flow.pending_access_enc or "",
                    refresh_token_enc=flow.pending_refresh_enc or "",
                    access_expires_at=flow.pending_access_expires_at or flow.pending_until,
                    refresh_expires_at=flow.pending_until,
                ),
                TokenBinding(flow.id, flow.user_id, pending=True),
            )
        except DecryptionError:
            log.error("amocrm_pending_undecryptable", flow_id=str(flow.id))
            raise TicketInvalid() from None
        held_since = flow.pending_until - PENDING_RESULT_TTL
        assert flow.pending_account_id is not None
        assert flow.pending_amo_user_id is not None
        return NewLink(
            account_id=flow.pending_account_id,
            account_domain=flow.pending_account_domain or "",
            base_domain=flow.pending_base_domain or "",
            amo_user_id=flow.pending_amo_user_id,
            amo_user_name=flow.pending_amo_user_name,
            amo_user_is_admin=flow.pending_amo_user_is_admin,
            access_token=access_token,
            refresh_token=refresh_token,
            access_expires_at=flow.pending_access_expires_at or held_since,
            refresh_expires_at=held_since + REFRESH_TOKEN_LIFETIME,
        )

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

    async def _verify(
        self, flow: AmoCrmOAuthFlow, params: CallbackInput, owner: FlowOwner
    ) -> VerifiedConnect:
        """Check everything about a consumed flow, exchange the code, cross-check the token."""
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
        return await self._exchange_and_check(host, params.code)

    @staticmethod
    def _binder_matches(flow: AmoCrmOAuthFlow, binder: str | None) -> bool:
        if flow.binder_hash is None or not binder or len(binder) > 256:
            return False
        return hmac.compare_digest(flow.binder_hash, _sha256(binder))

    async def _exchange_and_check(self, host: AccountHost, code: str) -> VerifiedConnect:
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
        return VerifiedConnect(
            grant=grant,
            host=host,
            account_id=account.id,
            amo_user_id=account.current_user_id,
            amo_user_name=profile.name,
            amo_user_is_admin=profile.is_admin,
        )

    async def _link(
        self, session: AsyncSession, user_id: uuid.UUID, link: NewLink, now: datetime
    ) -> AmoCrmConnection | None:
        """Make `link` the user's connection (a reconnection replaces in place), with the
        `connected` event, inside the caller's transaction. One amoCRM user belongs to one
        ForYou user per account: another user's live connection to it refuses the link."""
        holder = await repository.linked_user_of(session, link.account_id, link.amo_user_id)
        if holder is not None and holder != user_id:
            raise AmoUserAlreadyLinked()
        connection = await repository.get_connection_for_user(session, user_id)
        if connection is None:
            connection = AmoCrmConnection(
                id=uuid.uuid4(),
                user_id=user_id,
                status=ConnectionStatus.DISCONNECTED.value,
                account_id=link.account_id,
                account_domain=link.account_domain,
                base_domain=link.base_domain,
                amo_user_id=link.amo_user_id,
                version=0,
                created_at=now,
                updated_at=now,
            )
            await repository.add_connection(session, connection)
        pair = seal_tokens(
            self._cipher,
            bound_to=TokenBinding(connection.id, user_id),
            access_token=link.access_token,
            refresh_token=link.refresh_token,
            access_expires_at=link.access_expires_at,
            refresh_expires_at=link.refresh_expires_at,
        )
        await repository.store_connected(
            session,
            connection.id,
            pair=pair,
            account_id=link.account_id,
            account_domain=link.account_domain,
            base_domain=link.base_domain,
            amo_user_id=link.amo_user_id,
            amo_user_name=link.amo_user_name,
            amo_user_is_admin=link.amo_user_is_admin,
            now=now,
        )
        await repository.add_event(
            session,
            user_id=user_id,
            connection_id=connection.id,
            kind=EventKind.CONNECTED,
            account_id=link.account_id,
            now=now,
        )
        log.info("amocrm_connected", connection_id=str(connection.id), account_id=link.account_id)
        return await repository.get_connection(session, connection.id)

    @asynccontextmanager
    async def _linking(
        self, user_id: uuid.UUID, link_of: Callable[[], NewLink | None]
    ) -> AsyncIterator[None]:
        """Around a linking transaction: when two redemptions for the same amoCRM user race,
        the database's unique index refuses the later one; it gets the same answer as if
        it had come second."""
        try:
            yield
        except IntegrityError:
            link = link_of()
            if link is None:
                raise
            async with self._db.transaction() as session:
                holder = await repository.linked_user_of(session, link.account_id, link.amo_user_id)
            if holder is None or holder == user_id:
                raise
            log.warning("amocrm_link_race_lost", account_id=link.account_id)
            raise AmoUserAlreadyLinked() from None

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

    # --- status and disconnect ----------------------------------------------------------

    async def status(self, subject: TokenSubject) -> StatusView:
        """The caller's connection status; the user is read and admitted in the same query
        (one database round trip for the endpoint the app polls most)."""
        async with self._db.read() as connection:
            user, standing, reconnect = await repository.get_user_and_standing(
                connection, subject.user_id
            )
        admit(user, crm_only=True)
        view = status_of(standing)
        if not reconnect_pending(reconnect, standing.connected_at if standing else None):
            return view
        assert reconnect is not None
        return replace(view, reconnect_requested=True, reconnect_note=reconnect.note)

    async def disconnect(self, user_id: uuid.UUID) -> None:
        now = self._clock.now()
        async with self._db.write_transaction() as session:
            await repository.disconnect_user(session, user_id, now, kind=EventKind.DISCONNECTED)
