"""amoCRM's OAuth token endpoint and API v4, over the transport seam. No database here."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from foryou.config import Settings
from foryou.integrations.amocrm.errors import (
    AmoBadResponse,
    AmoClientRejected,
    AmoForbidden,
    AmoGrantRejected,
    AmoRejected,
    AmoUnauthorized,
)
from foryou.integrations.amocrm.referer import AccountHost
from foryou.integrations.amocrm.transport import AmoCrmTransport


@dataclass(frozen=True)
class AccessClaims:
    """The claims of amoCRM's access token (read, not verified: amoCRM publishes no keys)."""

    audience: str | None
    user_id: int | None
    account_id: int | None
    base_domain: str | None


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_in: int
    claims: AccessClaims

    def __repr__(self) -> str:
        return f"TokenGrant(expires_in={self.expires_in}, claims={self.claims!r})"


@dataclass(frozen=True)
class UserProfile:
    name: str | None
    is_admin: bool


@dataclass(frozen=True)
class AccountInfo:
    id: int
    subdomain: str
    current_user_id: int
    name: str | None


def read_claims(access_token: str) -> AccessClaims:
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AmoBadResponse("access token is not a JWT") from None

    def as_int(value: Any) -> int | None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if len(audience) == 1 else None
    base_domain = claims.get("base_domain")
    return AccessClaims(
        audience=audience if isinstance(audience, str) else None,
        user_id=as_int(claims.get("sub")),
        account_id=as_int(claims.get("account_id")),
        base_domain=base_domain if isinstance(base_domain, str) else None,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise AmoBadResponse("amoCRM answered with a non-JSON body", response.status_code) from None
    if not isinstance(body, dict):
        raise AmoBadResponse("amoCRM answered with an unexpected body", response.status_code)
    return body


_LEGACY_NO_RIGHTS = re.compile(r"\b244\b")


def _is_legacy_no_rights(response: httpx.Response) -> bool:
    """A 400 whose `detail` names amoCRM's legacy code 244 ("no rights")."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return False
    return isinstance(detail, str) and _LEGACY_NO_RIGHTS.search(detail) is not None


def raise_for_api_status(response: httpx.Response) -> None:
    """amoCRM's verdict on one API v4 request as a vendor error, unless it is a 200.

    Failures of amoCRM itself (429, a block page, 402, 5xx) never get here: the upstream
    client raised them already, with their `Retry-After`.
    """
    status = response.status_code
    if status == 200:
        return
    if status == 401:
        raise AmoUnauthorized("amoCRM refused the access token")
    if status == 403:
        raise AmoForbidden("amoCRM refused access")
    if status in (400, 422):
        if status == 400 and _is_legacy_no_rights(response):
            # amoCRM answers some writes beyond the user's rights with a plain 400 carrying
            # its legacy code 244 ("no rights") instead of a 403.
            raise AmoForbidden("amoCRM refused access (legacy code 244)")
        raise AmoRejected("amoCRM rejected the request as invalid", status)
    raise AmoBadResponse("unexpected API status", status)


class AmoCrmClient:
    """Token grants and API v4 reads for one integration (client id + secret)."""

    def __init__(self, transport: AmoCrmTransport, settings: Settings) -> None:
        self._transport = transport
        self._client_id = settings.amocrm_client_id or ""
        secret = settings.amocrm_client_secret
        self._client_secret = secret.get_secret_value() if secret else ""
        self._redirect_uri = settings.redirect_uri

    async def exchange_code(self, host: AccountHost, code: str) -> TokenGrant:
        return await self._grant(
            host, {"grant_type": "authorization_code", "code": code}, account_id=None
        )

    async def refresh(self, host: AccountHost, refresh_token: str, account_id: int) -> TokenGrant:
        return await self._grant(
            host,
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            account_id=account_id,
        )

    async def _grant(
        self, host: AccountHost, grant: dict[str, str], *, account_id: int | None
    ) -> TokenGrant:
        body = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            # The configured Redirect URI, verbatim: amoCRM compares it byte for byte.
            "redirect_uri": self._redirect_uri,
            **grant,
        }
        # Always https://{validated host}/oauth2/access_token, built here from parts we own.
        response = await self._transport.send(
            "POST",
            host.host,
            "/oauth2/access_token",
            account_id=account_id,
            idempotent=False,
            json=body,
        )
        status = response.status_code
        if status in (400, 401):
            hint = None
            with contextlib.suppress(AmoBadResponse):
                raw_hint = _json(response).get("hint")
                hint = raw_hint if isinstance(raw_hint, str) else None
            if status == 401 and hint is None:
                raise AmoClientRejected("amoCRM rejected our client credentials")
            raise AmoGrantRejected("amoCRM rejected the grant", status, hint)
        if status != 200:
            raise AmoBadResponse("token endpoint failed", status)
        payload = _json(response)
        access = payload.get("access_token")
        refresh = payload.get("refresh_token")
        expires_in = payload.get("expires_in")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise AmoBadResponse("token response without tokens", status)
        if not isinstance(expires_in, int) or not 60 <= expires_in <= 400 * 86400:
            raise AmoBadResponse("token response with a bad expires_in", status)
        return TokenGrant(access, refresh, expires_in, read_claims(access))

    async def get_account(self, host: AccountHost, access_token: str) -> AccountInfo:
        body = await self.api_get(host, access_token, "/api/v4/account", account_id=None)
        if body is None:
            raise AmoBadResponse("empty account response")
        try:
            account_id = int(body["id"])
            subdomain = str(body["subdomain"])
            current_user_id = int(body["current_user_id"])
        except (KeyError, TypeError, ValueError):
            raise AmoBadResponse("account response is missing fields") from None
        return AccountInfo(account_id, subdomain, current_user_id, None)

    async def get_user_profile(
        self, host: AccountHost, access_token: str, user_id: int, account_id: int
    ) -> UserProfile:
        """The amoCRM user's display name and admin flag; amoCRM lets only admins read users,
        so a refusal means a user who is no admin and whose name is unknown."""
        try:
            body = await self.api_get(
                host, access_token, f"/api/v4/users/{user_id}", account_id=account_id
            )
        except AmoForbidden:
            return UserProfile(None, is_admin=False)
        name = body.get("name") if body else None
        rights = body.get("rights") if body else None
        is_admin = isinstance(rights, dict) and rights.get("is_admin") is True
        return UserProfile(name if isinstance(name, str) else None, is_admin=is_admin)

    async def api_get(
        self,
        host: AccountHost,
        access_token: str,
        path: str,
        *,
        account_id: int | None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """GET an API v4 path; None for amoCRM's 204 "nothing found"."""
        response = await self._transport.send(
            "GET",
            host.host,
            path,
            account_id=account_id,
            idempotent=True,
            headers={"Authorization": f"Bearer {access_token}"},
            params=params,
        )
        if response.status_code == 204:
            return None
        raise_for_api_status(response)
        return _json(response)
