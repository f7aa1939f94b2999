"""The redaction processor: no token, code, state, secret, password or Authorization logged."""

from __future__ import annotations

import json
import logging

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


def test_standard_library_extra_fields_reach_the_json_line() -> None:
    # The upstream client logs through the standard library, with the account in `extra`.
    with captured_logs() as stream:
        logging.getLogger("foryou.upstream").warning(
            "amoCRM answered 429; calls to the account are paused",
            extra={"account_key": "reforyou.amocrm.ru", "pause_seconds": 1.0, "refresh_token": "x"},
        )
    line = json.loads(stream.getvalue().strip())
    assert line["event"] == "amoCRM answered 429; calls to the account are paused"
    assert line["account_key"] == "reforyou.amocrm.ru"
    assert line["pause_seconds"] == 1.0
    assert line["refresh_token"] == "[redacted]"
    assert line["level"] == "warning"
