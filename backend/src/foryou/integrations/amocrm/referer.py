"""The `referer` from amoCRM's redirect is untrusted input that picks the token endpoint host."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Exactly one label before an allowlisted amoCRM base domain; lower case only; no port,
# userinfo, path, trailing dot or IP literal can match.
_ACCOUNT_HOST = re.compile(
    r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.(amocrm\.ru|amocrm\.com|kommo\.com)$"
)
# `platform` in the redirect: 1 = amocrm.ru, 2 = amocrm.com / kommo.com.
_PLATFORM_DOMAINS = {"1": ("amocrm.ru",), "2": ("amocrm.com", "kommo.com")}


class RefererInvalid(ValueError):
    pass


@dataclass(frozen=True)
class AccountHost:
    """A validated amoCRM account host such as `reforyou.amocrm.ru`."""

    subdomain: str
    base_domain: str

    @property
    def host(self) -> str:
        return f"{self.subdomain}.{self.base_domain}"


def parse_account_host(referer: str, platform: str | None = None) -> AccountHost:
    """Validate `referer` (and `platform` when given) per security checklist §1.B."""
    # No lower-casing: amoCRM sends lower case, and anything else is not what it sent.
    match = _ACCOUNT_HOST.fullmatch(referer)
    if match is None:
        raise RefererInvalid("referer is not an amoCRM account host")
    host = AccountHost(subdomain=match.group(1), base_domain=match.group(2))
    if platform is not None and host.base_domain not in _PLATFORM_DOMAINS.get(platform, ()):
        raise RefererInvalid("platform does not match the referer's domain")
    return host


def is_allowed_account(allowed: list[str], host: AccountHost, account_id: int | None) -> bool:
    """Empty list → every account; otherwise the host or the numeric account id must be listed."""
    if not allowed:
        return True
    if host.host in allowed:
        return True
    return account_id is not None and str(account_id) in allowed


def allowed_by_host_alone(allowed: list[str], host: AccountHost) -> bool | None:
    """Before the exchange: True/False when the list decides by host, None when ids must be read."""
    if not allowed or host.host in allowed:
        return True
    if any(entry.isdigit() for entry in allowed):
        return None
    return False
