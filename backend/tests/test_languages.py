"""`Accept-Language` read one way for every caller: the offered set and the default are theirs."""

from __future__ import annotations

import pytest
from foryou.languages import MAX_LANGUAGE_RANGES, preferred_language

OFFERED = ("uk", "ru", "en")


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "uk"),
        ("de-DE,de;q=0.9", "uk"),
        ("uk-UA,en;q=0.8", "uk"),
        ("EN-gb, uk;q=0.9", "en"),
        ("ru;q=0.5, en;q=0.5", "ru"),
        ("en;q=0, ru;q=0.1", "ru"),
        ("en;q=x, ru", "ru"),
    ],
)
def test_the_readers_preferred_offered_language_wins(header: str | None, language: str) -> None:
    assert preferred_language(header, OFFERED, "uk") == language


def test_ranges_past_the_limit_are_not_read() -> None:
    header = ",".join(["de"] * MAX_LANGUAGE_RANGES + ["en"])
    assert preferred_language(header, OFFERED, "uk") == "uk"
