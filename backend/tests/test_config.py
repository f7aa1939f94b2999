"""Settings: embedded defaults, and one clear line naming a missing or malformed setting."""

from __future__ import annotations

import subprocess
import sys

import pytest
from foryou.config import SettingsError, load_settings, parse_encryption_keys

from scripts.harness_constants import ENCRYPTION_KEY_1


def test_defaults_give_a_dev_run() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite+aiosqlite:///./data/")
    assert settings.redirect_uri == (
        "http://127.0.0.1:8000/api/v1/integrations/amo-crm/oauth/callback"
    )
    assert settings.app_return_url == "foryouapp://amo-crm/callback"
    assert not settings.is_production


def test_environment_is_read_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORYOU_CORS_ORIGINS", "http://127.0.0.1:8081, https://app.example")
    monkeypatch.setenv("FORYOU_AMOCRM_ALLOWED_ACCOUNTS", "ReForYou.amocrm.ru,31920194")
    settings = load_settings(_env_file=None)
    assert settings.cors_origins == ["http://127.0.0.1:8081", "https://app.example"]
    assert settings.amocrm_allowed_accounts == ["reforyou.amocrm.ru", "31920194"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FORYOU_DATABASE_URL", "mysql://db"),
        ("FORYOU_PUBLIC_URL", "not a url"),
        ("FORYOU_ENCRYPTION_KEYS", "k1:notbase64!"),
        ("FORYOU_ENCRYPTION_KEYS", "k1:" + "QUJD"),
        ("FORYOU_JWT_TTL_SECONDS", "soon"),
        ("FORYOU_CORS_ORIGINS", "*"),
        ("FORYOU_AMOCRM_CONSENT_HOST", "evil.example"),
    ],
)
def test_malformed_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert variable in message
    assert "\n" not in message
    assert value not in message or variable == "FORYOU_CORS_ORIGINS"


def test_https_deployment_requires_explicit_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORYOU_PUBLIC_URL", "https://api.foryou.example")
    with pytest.raises(SettingsError, match="FORYOU_JWT_SECRET"):
        load_settings(_env_file=None)
    monkeypatch.setenv("FORYOU_JWT_SECRET", "j" * 40)
    with pytest.raises(SettingsError, match="FORYOU_ENCRYPTION_KEYS"):
        load_settings(_env_file=None)
    monkeypatch.setenv("FORYOU_ENCRYPTION_KEYS", f"k1:{ENCRYPTION_KEY_1}")
    assert load_settings(_env_file=None).is_production


def test_key_list_is_newest_first() -> None:
    keys = parse_encryption_keys(f"new:{ENCRYPTION_KEY_1},old:{ENCRYPTION_KEY_1}")
    assert [key.key_id for key in keys] == ["new", "old"]
    with pytest.raises(ValueError, match="twice"):
        parse_encryption_keys(f"a:{ENCRYPTION_KEY_1},a:{ENCRYPTION_KEY_1}")


def test_cli_reports_a_bad_setting_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "foryou", "connections", "list"],
        env={"FORYOU_DATABASE_URL": "oracle://nope", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "invalid setting FORYOU_DATABASE_URL: "
        "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
    ]
