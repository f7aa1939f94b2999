"""Settings read from the environment (prefix `FORYOU_`) and an optional `.env` file."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from foryou.client_address import parse_networks
from foryou.failpoints import parse_failpoints

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/foryou.sqlite3"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
CALLBACK_PATH = "/api/v1/integrations/amo-crm/oauth/callback"
DISABLE_HOOK_PATH = "/api/v1/integrations/amo-crm/hooks/disabled"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


@dataclass(frozen=True)
class EncryptionKey:
    key_id: str
    key: bytes


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Everything the backend reads from its environment; see docs/architecture.md."""

    model_config = SettingsConfigDict(
        env_prefix="FORYOU_", env_file=".env", extra="ignore", validate_default=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    public_url: str = DEFAULT_PUBLIC_URL
    jwt_secret: SecretStr | None = None
    jwt_public_key: SecretStr | None = None
    jwt_private_key: SecretStr | None = None
    jwt_issuer: str = "foryou"
    jwt_audience: str = "foryou-app"
    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    encryption_keys: SecretStr | None = None
    password_hash_time_cost: int = Field(default=3, ge=1, le=20)
    password_hash_memory_kib: int = Field(default=65536, ge=1024, le=1048576)
    redis_url: str | None = None

    amocrm_client_id: str | None = None
    amocrm_client_secret: SecretStr | None = None
    amocrm_redirect_uri: str | None = None
    amocrm_allowed_accounts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    amocrm_upstream_url: str | None = None
    amocrm_consent_host: str = "www.amocrm.ru"
    amocrm_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    amocrm_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    amocrm_refresh_margin_seconds: int = Field(default=900, ge=0, le=86400)
    amocrm_refresh_lease_seconds: int = Field(default=30, ge=5, le=600)
    amocrm_rate_limit: float = Field(default=6.5, gt=0, le=50)
    amocrm_max_queue_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    redis_prefix: str = Field(default="foryou:", min_length=1, max_length=64)
    # After a refresh that failed without a verdict (timeout, 5xx), no new attempt for this
    # long (doubling per failure, at most 15 minutes): a broken token endpoint is never hammered.
    amocrm_refresh_retry_seconds: float = Field(default=30.0, ge=0.1, le=900)

    # The keep-alive worker (`foryou worker`, or inside `foryou serve` when embedded).
    embedded_worker: bool = False
    worker_interval_seconds: float = Field(default=60.0, ge=0.1, le=86400)
    worker_refresh_ahead_seconds: int = Field(default=1800, ge=0, le=86400)
    worker_keepalive_days: float = Field(default=7.0, gt=0, le=80)
    # amoCRM's changes followed (webhooks, or the events poll when no admin can register them).
    # Poll `GET /api/v4/events` of accounts without a webhook this often (0: never).
    events_poll_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Lists, details and task boards of an account whose changes we follow live this long;
    # otherwise the short defaults (15 s) apply.
    followed_cache_seconds: float = Field(default=300.0, ge=1, le=3600)
    # The worker warms the caches of brokers who used the CRM within this many hours, with
    # budget nobody is waiting for (0: never).
    warm_active_hours: float = Field(default=24.0, ge=0, le=168)
    # Webhook items identical to one seen within this window are dropped.
    webhook_dedupe_seconds: float = Field(default=600.0, ge=1, le=86400)
    # SSE: a comment line this often keeps proxies from closing an idle stream.
    live_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    # SSE: a stream ends after this long and the client reconnects (resuming by Last-Event-ID),
    # authenticated again: a blocked user or an expired token keeps no stream open for long.
    live_stream_max_seconds: float = Field(default=900.0, gt=0, le=86400)
    # The worker warns this many days before the agency's long-lived token expires.
    agency_token_warning_days: int = Field(default=14, ge=1, le=365)
    # Tests only: `name:action[:arg],...` (see foryou.failpoints).
    test_failpoints: str | None = None

    app_return_url: str = "foryouapp://amo-crm/callback"
    web_return_url: str | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oauth_flow_ttl_seconds: int = Field(default=600, ge=60, le=1200)
    # Each authorize call writes a flow row; a per-user cap keeps a looping client (or a
    # stolen app token) from filling the table between the worker's purges.
    oauth_flows_per_minute: int = Field(default=10, ge=1, le=1000)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool | None = None

    # Exposure and abuse limits of the HTTP API (docs/operations.md, "Hardening").
    # Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client; empty: the
    # TCP peer is the client, and the header is ignored.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Login: free attempts per minute per account (e-mail) and per client address; past them
    # 429 for login_penalty_seconds, doubling per repeat up to the caps. The account's cap is
    # short so that an attacker cannot keep a broker out for long; the address's is longer.
    login_attempts_per_account: int = Field(default=5, ge=1, le=1000)
    login_attempts_per_address: int = Field(default=20, ge=1, le=10000)
    login_penalty_seconds: float = Field(default=30.0, gt=0, le=900)
    login_account_max_penalty_seconds: float = Field(default=300.0, gt=0, le=3600)
    login_address_max_penalty_seconds: float = Field(default=900.0, gt=0, le=86400)
    # /api/v1/docs and the OpenAPI schema; None: on, except in production (https public URL).
    api_docs: bool | None = None
    # When set, /metrics answers only `Authorization: Bearer <token>`.
    metrics_token: SecretStr | None = None

    @field_validator("amocrm_allowed_accounts", "cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("amocrm_allowed_accounts")
    @classmethod
    def _allowed_accounts(cls, value: list[str]) -> list[str]:
        return [item.lower() for item in value]

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_url", "amocrm_upstream_url", "web_return_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("amocrm_redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str | None) -> str | None:
        # Kept verbatim: amoCRM compares it byte for byte with the registered Redirect URI.
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        return value

    @field_validator("app_return_url")
    @classmethod
    def _return_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if not parts.scheme or parts.query or parts.fragment:
            raise ValueError("must be an absolute URL without query or fragment")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in ("http", "https") or parts.path:
                raise ValueError(f"{origin!r} is not an exact origin like https://app.example")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_encryption_keys(value.get_secret_value())
        return value

    @field_validator("amocrm_consent_host")
    @classmethod
    def _consent_host(cls, value: str) -> str:
        if value not in ("www.amocrm.ru", "www.kommo.com", "www.amocrm.com"):
            raise ValueError("must be www.amocrm.ru, www.amocrm.com or www.kommo.com")
        return value

    @field_validator("test_failpoints")
    @classmethod
    def _failpoints(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_failpoints(value)
        return value

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        # An https public URL means a real deployment: secrets must be given explicitly
        # rather than generated into the local data directory as a dev run does.
        if self.is_production:
            if self.jwt_secret is None and self.jwt_public_key is None:
                raise ValueError("jwt_secret: required when public_url is https")
            if self.encryption_keys is None:
                raise ValueError("encryption_keys: required when public_url is https")
        if self.is_production and self.test_failpoints is not None:
            raise ValueError("test_failpoints: refused when public_url is https (tests only)")
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("jwt_secret: must be at least 32 characters")
        return self

    @property
    def is_production(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else not self.is_production

    @property
    def public_is_loopback(self) -> bool:
        return (urlsplit(self.public_url).hostname or "") in _LOOPBACK_HOSTS

    @property
    def redirect_uri(self) -> str:
        return self.amocrm_redirect_uri or f"{self.public_url}{CALLBACK_PATH}"

    @property
    def disable_hook_url(self) -> str:
        return f"{self.public_url}{DISABLE_HOOK_PATH}"

    @property
    def amocrm_configured(self) -> bool:
        return bool(self.amocrm_client_id and self.amocrm_client_secret)


def parse_encryption_keys(raw: str) -> list[EncryptionKey]:
    """Parse `kid:base64key,...` (newest first) into 32-byte AES keys."""
    keys: list[EncryptionKey] = []
    for item in _split_csv(raw):
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ValueError("each entry must be kid:base64key with a short kid")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ValueError(f"key {key_id!r} must decode to 32 bytes (AES-256)")
        if any(existing.key_id == key_id for existing in keys):
            raise ValueError(f"key id {key_id!r} appears twice")
        keys.append(EncryptionKey(key_id, key))
    if not keys:
        raise ValueError("at least one key is required")
    return keys


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning a validation failure into one line that names the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None


def describe_settings_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = [str(part) for part in first["loc"]]
    message = str(first["msg"]).removeprefix("Value error, ")
    if not location and ":" in message:
        field, _, message = message.partition(":")
        location = [field.strip()]
        message = message.strip()
    name = "FORYOU_" + "_".join(location).upper() if location else "configuration"
    return f"invalid setting {name}: {message}"
