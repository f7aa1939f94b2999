"""The JWT secret and token keys: from settings, or generated once for a local dev run."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine.url import make_url

from foryou.config import EncryptionKey, Settings, SettingsError, parse_encryption_keys

DEV_SECRETS_FILE = "dev-secrets.json"


@dataclass(frozen=True)
class ResolvedSecrets:
    jwt_secret: str | None
    encryption_keys: list[EncryptionKey]


def _data_dir(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent
    return Path("data")


def _dev_secrets(settings: Settings) -> dict[str, str]:
    """Random secrets kept in the data directory (mode 0600) so a dev run survives restarts
    and several worker processes agree; an https deployment must configure its own."""
    path = _data_dir(settings) / DEV_SECRETS_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "jwt_secret": secrets.token_urlsafe(48),
            "encryption_keys": "dev1:" + base64.b64encode(os.urandom(32)).decode(),
        }
        # Written completely under a private name, then linked into place: several worker
        # processes starting together all end up reading the one file that won.
        draft = path.with_name(f".{DEV_SECRETS_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(values, handle)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    loaded: dict[str, str] = json.loads(path.read_text())
    return loaded


def resolve_secrets(settings: Settings) -> ResolvedSecrets:
    jwt_secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    keys_raw = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    needs_dev = (jwt_secret is None and settings.jwt_public_key is None) or keys_raw is None
    if needs_dev:
        if settings.is_production:
            raise SettingsError("invalid setting FORYOU_ENCRYPTION_KEYS: required")
        generated = _dev_secrets(settings)
        if jwt_secret is None and settings.jwt_public_key is None:
            jwt_secret = generated["jwt_secret"]
        keys_raw = keys_raw or generated["encryption_keys"]
    assert keys_raw is not None
    return ResolvedSecrets(jwt_secret=jwt_secret, encryption_keys=parse_encryption_keys(keys_raw))
