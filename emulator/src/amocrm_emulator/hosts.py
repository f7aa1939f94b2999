"""Which amoCRM host a request is addressed to, chosen by its `Host` header.

One server answers as every amoCRM host: `www.amocrm.ru` / `www.kommo.com` (consent page),
`{subdomain}.amocrm.ru` / `{subdomain}.kommo.com` (token endpoint and API v4 of an account),
`api-X.amocrm.ru` / `api-X.kommo.com` (account look-up by refresh token). A loopback host
(127.0.0.1, localhost, ::1, any port) is the consent page and the default account at once.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum

from amocrm_emulator.state.models import Account
from amocrm_emulator.state.store import State

BASE_DOMAINS = ("amocrm.ru", "amocrm.com", "kommo.com")
_API_DOMAIN = re.compile(r"^api-[a-z]\.(amocrm\.ru|amocrm\.com|kommo\.com)$")
_ACCOUNT_HOST = re.compile(
    r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.(amocrm\.ru|amocrm\.com|kommo\.com)$"
)


class HostKind(Enum):
    CONSENT = "consent"
    ACCOUNT = "account"
    API_DOMAIN = "api_domain"
    LOOPBACK = "loopback"
    UNKNOWN_ACCOUNT = "unknown_account"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class HostTarget:
    kind: HostKind
    host: str
    base_domain: str | None = None
    account: Account | None = None

    @property
    def serves_consent(self) -> bool:
        return self.kind in (HostKind.CONSENT, HostKind.LOOPBACK)

    @property
    def serves_account(self) -> bool:
        return self.kind in (HostKind.ACCOUNT, HostKind.LOOPBACK)


def split_host_header(value: str) -> str:
    """The host name of a `Host` header value, lower-case, without port or brackets."""
    host = value.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_host(state: State, header: str, default_account_id: int) -> HostTarget:
    host = split_host_header(header)
    if not host or is_loopback(host):
        return HostTarget(HostKind.LOOPBACK, host, account=state.accounts.get(default_account_id))
    for base in BASE_DOMAINS:
        if host in (base, f"www.{base}"):
            return HostTarget(HostKind.CONSENT, host, base_domain=_canonical(base))
    if _API_DOMAIN.match(host):
        return HostTarget(HostKind.API_DOMAIN, host, base_domain=_canonical(host.split(".", 1)[1]))
    match = _ACCOUNT_HOST.match(host)
    if match:
        subdomain, base = match.group(1), _canonical(match.group(2))
        account = state.account_by_subdomain(subdomain, base)
        if account is None:
            return HostTarget(HostKind.UNKNOWN_ACCOUNT, host, base_domain=base)
        return HostTarget(HostKind.ACCOUNT, host, base_domain=base, account=account)
    return HostTarget(HostKind.FOREIGN, host)


def _canonical(base: str) -> str:
    # amocrm.com is the deprecated alias of kommo.com.
    return "kommo.com" if base == "amocrm.com" else base
