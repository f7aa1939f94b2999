"""Authorization codes, access tokens (RS256 JWT) and rotating refresh tokens.

No web framework here: the HTTP layer turns an `OAuthFailure` into amoCRM's error body.
Hints and statuses follow the protocol reference §4 (League OAuth server wording).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from amocrm_emulator.clock import Clock
from amocrm_emulator.config import (
    ACCESS_TTL_SECONDS,
    CODE_TTL_SECONDS,
    REFRESH_TTL_SECONDS,
    Switches,
)
from amocrm_emulator.state.models import AccessToken, Account, AuthCode, Integration, RefreshToken
from amocrm_emulator.state.store import State

SCOPES_AMOCRM = ["crm", "files", "files_delete", "notifications", "push_notifications"]
SCOPES_KOMMO = [*SCOPES_AMOCRM, "list_external_messages", "send_external_messages"]


class OAuthFailure(Exception):
    """A refused token request: HTTP status plus the body fields amoCRM sends."""

    def __init__(self, status: int, hint: str | None, *, invalid_client: bool = False) -> None:
        super().__init__(hint or "invalid client")
        self.status = status
        self.hint = hint
        self.invalid_client = invalid_client


def _bad_request(hint: str) -> OAuthFailure:
    return OAuthFailure(400, hint)


def _client_failure() -> OAuthFailure:
    return OAuthFailure(401, None, invalid_client=True)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    server_time: int

    def as_json(self) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "server_time": self.server_time,
        }


def new_signing_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _opaque(nbytes: int) -> str:
    # League's encrypted payloads start with "def50200"; amoCRM's codes and refresh tokens too.
    return "def50200" + secrets.token_hex(nbytes)


class TokenService:
    def __init__(self, state: State, clock: Clock, switches: Switches) -> None:
        self.state = state
        self.clock = clock
        self.switches = switches
        self._key: Any = None
        self._key_pem = ""
        self._jti_index: dict[str, str] = {}
        self.use_state(state)

    def use_state(self, state: State) -> None:
        """Switch to another state (after a reset) and rebuild the jti index."""
        self.state = state
        self._jti_index = {rec.jti: token for token, rec in state.access_tokens.items()}

    def _signing_key(self) -> Any:
        if not self.state.signing_key_pem:
            self.state.signing_key_pem = new_signing_key_pem()
        if self._key_pem != self.state.signing_key_pem:
            self._key = serialization.load_pem_private_key(
                self.state.signing_key_pem.encode("ascii"), password=None
            )
            self._key_pem = self.state.signing_key_pem
        return self._key

    def public_key_pem(self) -> str:
        key = self._signing_key()
        pem: bytes = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode("ascii")

    # ---- codes ----------------------------------------------------------------------------
    def issue_code(self, integration: Integration, account: Account, user_id: int) -> str:
        code = _opaque(200)
        self.state.codes[code] = AuthCode(
            code=code,
            client_id=integration.client_id,
            account_id=account.id,
            user_id=user_id,
            redirect_uri=integration.redirect_uri,
            issued_at=self.clock.now_int(),
        )
        return code

    # ---- client authentication --------------------------------------------------------------
    def authenticate_client(
        self, client_id: str | None, client_secret: str | None, redirect_uri: str | None
    ) -> Integration:
        if not client_id:
            raise _bad_request("Check the `client_id` parameter")
        integration = self.state.integrations.get(client_id)
        if integration is None or not client_secret:
            raise _client_failure()
        if not secrets.compare_digest(
            integration.client_secret.encode("utf-8"), client_secret.encode("utf-8")
        ):
            raise _client_failure()
        # The Redirect URI must match the registered one exactly, a trailing slash included.
        if redirect_uri is not None and redirect_uri != integration.redirect_uri:
            raise _client_failure()
        return integration

    # ---- grants ----------------------------------------------------------------------------
    def exchange_code(
        self,
        integration: Integration,
        account: Account,
        code: str | None,
        redirect_uri: str | None,
    ) -> TokenPair:
        if not code:
            raise _bad_request("Check the `code` parameter")
        if redirect_uri is None:
            raise _bad_request("Check the `redirect_uri` parameter")
        record = self.state.codes.get(code)
        if record is None or record.account_id != account.id:
            raise _bad_request("Cannot decrypt the authorization code")
        if record.client_id != integration.client_id:
            raise _bad_request("Authorization code was not issued to this client")
        if self.clock.now() > record.issued_at + CODE_TTL_SECONDS:
            raise _bad_request("Authorization code has expired")
        if record.used:
            raise _bad_request("Authorization code has been revoked")
        if record.redirect_uri != redirect_uri:
            raise _bad_request("Invalid redirect URI")
        record.used = True
        return self._issue(integration.client_id, account, record.user_id)

    def refresh(
        self, integration: Integration, account: Account, refresh_token: str | None
    ) -> TokenPair:
        if not refresh_token:
            raise _bad_request("Check the `refresh_token` parameter")
        record = self.state.refresh_tokens.get(refresh_token)
        if record is None or record.account_id != account.id:
            raise OAuthFailure(401, "Cannot decrypt the refresh token")
        if record.client_id != integration.client_id:
            raise OAuthFailure(401, "Token is not linked to client")
        if record.status in ("revoked", "spent"):
            raise OAuthFailure(401, "Token has been revoked")
        if record.status == "previous" and self.switches.refresh_reuse == "strict":
            raise OAuthFailure(401, "Token has been revoked")
        if self.clock.now() > record.expires_at:
            raise OAuthFailure(401, "Token has expired")

        if record.status == "previous":
            # Grace mode: the successor was never used (else this one would be spent), so the
            # client probably lost the answer. The successor pair is replaced by a new one.
            if record.successor is not None:
                self._revoke_refresh(record.successor, revoke_access=True)
        else:
            # Spending the current token ends the grace of the one before it.
            for older in self.state.refresh_tokens.values():
                if older.successor == refresh_token and older.status == "previous":
                    older.status = "spent"
        if self.switches.revoke_old_access_on_refresh:
            self._revoke_access(record.access_jti)
        pair = self._issue(integration.client_id, account, record.user_id)
        record.successor = pair.refresh_token
        record.status = "previous" if self.switches.refresh_reuse == "grace" else "spent"
        return pair

    def _issue(self, client_id: str, account: Account, user_id: int) -> TokenPair:
        now = self.clock.now_int()
        access, jti = self.issue_access(client_id, account, user_id, now + ACCESS_TTL_SECONDS)
        refresh = _opaque(330)
        self.state.refresh_tokens[refresh] = RefreshToken(
            token=refresh,
            client_id=client_id,
            account_id=account.id,
            user_id=user_id,
            issued_at=now,
            expires_at=now + REFRESH_TTL_SECONDS,
            access_jti=jti,
        )
        return TokenPair(access, refresh, ACCESS_TTL_SECONDS, now)

    def issue_access(
        self, client_id: str, account: Account, user_id: int, expires_at: int
    ) -> tuple[str, str]:
        """A signed access token (and its jti) valid until `expires_at`; OAuth grants and
        long-lived tokens share it, so both carry the very same claims."""
        now = self.clock.now_int()
        jti = secrets.token_hex(40)
        claims = {
            "aud": client_id,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": expires_at,
            "sub": str(user_id),
            "grant_type": "",
            "account_id": account.id,
            "base_domain": account.base_domain,
            "version": 2,
            "scopes": SCOPES_KOMMO if account.is_kommo else SCOPES_AMOCRM,
            "hash_uuid": str(uuid.uuid4()),
            "api_domain": account.api_domain,
        }
        access = jwt.encode(claims, self._signing_key(), algorithm="RS256", headers={"jti": jti})
        self.state.access_tokens[access] = AccessToken(
            jti=jti,
            token=access,
            client_id=client_id,
            account_id=account.id,
            user_id=user_id,
            issued_at=now,
            expires_at=expires_at,
        )
        self._jti_index[jti] = access
        return access, jti

    def revoke_access(self, jti: str) -> bool:
        """Revoke one access token by its jti (a long-lived token withdrawn in amoCRM's UI)."""
        token = self._jti_index.get(jti)
        if token is None or self.state.access_tokens[token].revoked:
            return False
        self.state.access_tokens[token].revoked = True
        return True

    # ---- bearer tokens -------------------------------------------------------------------
    def authenticate_bearer(self, token: str, account: Account) -> AccessToken | None:
        record = self.state.access_tokens.get(token)
        if record is None or record.revoked or record.account_id != account.id:
            return None
        if self.clock.now() >= record.expires_at:
            return None
        if record.client_id not in self.state.integrations:
            return None
        return record

    def account_for_refresh_token(self, token: str) -> Account | None:
        record = self.state.refresh_tokens.get(token)
        if record is None or record.status in ("revoked", "spent"):
            return None
        if self.clock.now() > record.expires_at:
            return None
        return self.state.accounts.get(record.account_id)

    # ---- revocation ---------------------------------------------------------------------------
    def _revoke_access(self, jti: str) -> None:
        token = self._jti_index.get(jti)
        if token is not None:
            self.state.access_tokens[token].revoked = True

    def _revoke_refresh(self, token: str, *, revoke_access: bool) -> None:
        record = self.state.refresh_tokens.get(token)
        if record is None:
            return
        record.status = "revoked"
        if revoke_access:
            self._revoke_access(record.access_jti)

    def expire_user_access(self, user_id: int) -> int:
        """Make every live access token of the user expire now; returns how many."""
        now = self.clock.now_int()
        count = 0
        for record in self.state.access_tokens.values():
            if record.user_id == user_id and not record.revoked and record.expires_at > now:
                record.expires_at = now
                count += 1
        return count

    def revoke_user(self, user_id: int) -> int:
        """Kill every token of the user, as revoking the grant in amoCRM does."""
        count = 0
        for access in self.state.access_tokens.values():
            if access.user_id == user_id and not access.revoked:
                access.revoked = True
                count += 1
        for refresh in self.state.refresh_tokens.values():
            if refresh.user_id == user_id and refresh.status in ("current", "previous"):
                refresh.status = "revoked"
                count += 1
        return count

    def revoke_integration(self, client_id: str, account_id: int) -> int:
        """Kill every token of an integration in one account (the integration was disabled)."""
        count = 0
        for access in self.state.access_tokens.values():
            if access.client_id == client_id and access.account_id == account_id:
                if not access.revoked:
                    count += 1
                access.revoked = True
        for refresh in self.state.refresh_tokens.values():
            if (
                refresh.client_id == client_id
                and refresh.account_id == account_id
                and refresh.status in ("current", "previous")
            ):
                refresh.status = "revoked"
                count += 1
        return count
