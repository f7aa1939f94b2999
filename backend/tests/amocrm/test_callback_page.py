"""The callback's HTML page escapes everything it shows."""

from __future__ import annotations

from foryou.integrations.amocrm.pages import callback_page


def test_page_escapes_the_return_url_and_code() -> None:
    page = callback_page('foryouapp://cb?status=error&code="><script>x</script>', "error", "<b>")
    assert "<script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page
    assert "&lt;b&gt;" in page
    assert "status=error&amp;code=" in page


def test_page_has_no_external_resources() -> None:
    page = callback_page("foryouapp://amo-crm/callback?status=connected", "connected", None)
    for marker in ("http://", "https://", "<script", "<img", "<link", "<iframe"):
        assert marker not in page
