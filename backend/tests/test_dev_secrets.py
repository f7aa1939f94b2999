"""A dev run without configured secrets generates them once, privately, for every process."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from foryou.config import SettingsError, load_settings
from foryou.secrets_store import DEV_SECRETS_FILE, resolve_secrets


def _resolve(database_url: str) -> tuple[str | None, str]:
    resolved = resolve_secrets(load_settings(database_url=database_url, _env_file=None))
    return resolved.jwt_secret, resolved.encryption_keys[0].key_id


def test_dev_secrets_are_generated_once_and_shared(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'foryou.sqlite3'}"
    with ProcessPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_resolve, [url] * 8))
    assert len(set(results)) == 1
    stored = tmp_path / "data" / DEV_SECRETS_FILE
    assert stored.stat().st_mode & 0o777 == 0o600
    assert json.loads(stored.read_text())["jwt_secret"] == results[0][0]
    assert sorted(p.name for p in stored.parent.iterdir()) == [DEV_SECRETS_FILE]


def test_https_deployment_never_generates_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORYOU_PUBLIC_URL", "https://api.foryou.example")
    with pytest.raises(SettingsError):
        load_settings(_env_file=None)
