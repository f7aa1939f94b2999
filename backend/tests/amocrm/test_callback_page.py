"""The browser pages of the connect flow escape everything they show and load nothing."""

from __future__ import annotations

import pytest
from foryou.integrations.amocrm.pages import (
    page_language,
    return_page,
    start_page,
    unknown_flow_page,
)


def test_page_escapes_the_return_url_and_code() -> None:
    page = return_page("en", 'foryouapp://cb?status=error&code="><script>x</script>', "<b>")
    assert "<script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page
    assert "&lt;b&gt;" in page
    assert "status=error&amp;code=" in page


def test_start_page_escapes_the_holder() -> None:
    page = start_page("en", "https://www.amocrm.ru/oauth?a=1&b=2", "<i>Eve</i>", "e***e@x.example")
    assert "<i>" not in page
    assert "&lt;i&gt;Eve&lt;/i&gt;" in page
    assert 'href="https://www.amocrm.ru/oauth?a=1&amp;b=2"' in page


def test_pages_have_no_external_resources() -> None:
    pages = [
        return_page("uk", "foryouapp://amo-crm/callback?status=pending&ticket=t", None),
        unknown_flow_page("ru", "amo_state_invalid", "foryouapp://amo-crm/callback"),
    ]
    for page in pages:
        for marker in ("http://", "https://", "<script", "<img", "<link", "<iframe"):
            assert marker not in page


def test_pages_share_one_inline_style_block_that_loads_nothing() -> None:
    pages = [
        start_page("uk", "https://www.amocrm.ru/oauth?a=1", "Olena", "o***a@foryou.example"),
        return_page("en", "foryouapp://amo-crm/callback?status=pending&ticket=t", None),
        return_page("ru", "foryouapp://amo-crm/callback?status=error", "amo_state_expired"),
        unknown_flow_page("en", "amo_state_invalid", None),
    ]
    for page in pages:
        assert page.count("<style>") == 1
        for marker in ("style=", "url(", "@import", "@font-face"):
            assert marker not in page
    # Every way onward is the one primary button.
    assert all('<a class=button href="' in page for page in pages[:3])


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("de-DE,de;q=0.9", "en"),
        ("uk-UA,uk;q=0.9,en;q=0.8", "uk"),
        ("ru", "ru"),
        ("en;q=0.5, ru;q=0.9", "ru"),
        ("de, uk;q=0.1", "uk"),
        ("uk;q=0, ru;q=0.2", "ru"),
        ("uk;q=abc, en", "en"),
    ],
)
def test_language_follows_accept_language(header: str | None, language: str) -> None:
    assert page_language(header) == language
