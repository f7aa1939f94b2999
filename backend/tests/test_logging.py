"""The redaction processor: no token, code, state, secret, password or Authorization logged."""

from __future__ import annotations

import json

from backend_support import captured_logs
from foryou.logging import configure_structlog, get_logger, scrub


def test_sensitive_keys_and_values_are_redacted() -> None:
    configure_structlog()
    log = get_logger("test")
    with captured_logs() as stream:
        log.info(
            "event",
            access_token="eyJhbGciOi.JIUzI1NiJ9eyJzdWIi.sig",
            refresh_token="def50200aa",
            code="def5020011223344556677",
            state="s" * 43,
            client_secret="shh",
            password="hunter2",
            headers={"Authorization": "Bearer abc.def.ghi"},
            note="url https://x/cb?code=abc123&state=zzz and Bearer qwerty",
            account_id=31920194,
        )
    line = json.loads(stream.getvalue().strip())
    for secret in ("eyJhbGciOi", "def50200", "s" * 43, "shh", "hunter2", "abc.def", "abc123"):
        assert secret not in stream.getvalue()
    assert "qwerty" not in stream.getvalue()
    assert line["account_id"] == 31920194
    assert line["event"] == "event"


def test_scrub_keeps_plain_values() -> None:
    assert scrub({"path": "/api/v1/x", "status": 200}) == {"path": "/api/v1/x", "status": 200}
