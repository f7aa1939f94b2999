"""The `referer` host check of security checklist §1.B (unit level; flow tests add the canary)."""

from __future__ import annotations

import pytest
from foryou.integrations.amocrm.referer import (
    AccountHost,
    RefererInvalid,
    allowed_by_host_alone,
    is_allowed_account,
    parse_account_host,
)

FORGED = [
    "evil.com",
    "reforyou.amocrm.ru.evil.com",
    "reforyou.amocrm.ru@evil.com",
    "reforyou.amocrm.ru:8443",
    "127.0.0.1",
    "[::1]",
    "localhost",
    "a.b.amocrm.ru",
    "REFORYOU.AMOCRM.RU",
    "reforyou.amocrm.ru.",
    "reforyou.amocrm.ru/",
    "reforyou.amocrm.ru%2f",
    "reforyou.amocrm.ru\\",
    " reforyou.amocrm.ru",
    "reforyou.amocrm.ru\n",
    "https://reforyou.amocrm.ru",
    "-reforyou.amocrm.ru",
    "xn--e1afmkfd.amocrm.ru.evil",
    "amocrm.ru",
    ".amocrm.ru",
    "",
]


@pytest.mark.parametrize("referer", FORGED)
def test_forged_referer_is_rejected(referer: str) -> None:
    with pytest.raises(RefererInvalid):
        parse_account_host(referer)


@pytest.mark.parametrize(
    ("referer", "platform"),
    [("reforyou.amocrm.ru", "1"), ("agency.kommo.com", "2"), ("agency.amocrm.com", "2")],
)
def test_account_host_and_platform_agree(referer: str, platform: str) -> None:
    assert parse_account_host(referer, platform).host == referer


@pytest.mark.parametrize(
    ("referer", "platform"),
    [("reforyou.amocrm.ru", "2"), ("agency.kommo.com", "1"), ("reforyou.amocrm.ru", "3")],
)
def test_platform_mismatch_is_rejected(referer: str, platform: str) -> None:
    with pytest.raises(RefererInvalid):
        parse_account_host(referer, platform)


def test_allowed_accounts_by_host_or_id() -> None:
    host = AccountHost("reforyou", "amocrm.ru")
    assert is_allowed_account([], host, 1)
    assert is_allowed_account(["reforyou.amocrm.ru"], host, None)
    assert is_allowed_account(["31920194"], host, 31920194)
    assert not is_allowed_account(["other.amocrm.ru"], host, 31920194)
    assert allowed_by_host_alone(["other.amocrm.ru"], host) is False
    assert allowed_by_host_alone(["31920194"], host) is None
