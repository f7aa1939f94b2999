"""The one reading of `Accept-Language`: which of the languages we offer a reader prefers.

The product speaks Ukrainian, English and Russian (`Language`); each feature picks its own
default (the connect pages English, what is written into amoCRM for a broker Ukrainian).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypeVar

Language = Literal["uk", "en", "ru"]
LANGUAGES: tuple[Language, ...] = ("uk", "en", "ru")

LanguageT = TypeVar("LanguageT", bound=str)

# A header is read no further than this many ranges: nobody ranks more, and work stays bounded.
MAX_LANGUAGE_RANGES = 20


def preferred_language(
    accept_language: str | None, offered: Iterable[LanguageT], default: LanguageT
) -> LanguageT:
    """The reader's preferred language among `offered` (`uk-UA,en;q=0.8` → uk): q-values
    honoured, a range with q=0 or an unreadable q skipped, the first listed wins a tie, and
    `default` when the header names none of ours."""
    by_tag: dict[str, LanguageT] = {language: language for language in offered}
    best: tuple[float, LanguageT] | None = None
    for item in (accept_language or "").split(",")[:MAX_LANGUAGE_RANGES]:
        tag, _, params = item.strip().partition(";")
        language = by_tag.get(tag.strip().split("-")[0].lower())
        if language is None:
            continue
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        if weight > 0 and (best is None or weight > best[0]):
            best = (weight, language)
    return default if best is None else best[1]
