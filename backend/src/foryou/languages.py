"""The languages the product speaks to people, and which of them a request asks for."""

from __future__ import annotations

from typing import Literal

Language = Literal["uk", "en", "ru"]
LANGUAGES: tuple[Language, ...] = ("uk", "en", "ru")
_BY_TAG: dict[str, Language] = {language: language for language in LANGUAGES}
# A header is read this far: a browser sends a handful of languages, never dozens.
_MAX_ITEMS = 20


def preferred_language(accept_language: str | None, default: Language) -> Language:
    """The reader's preferred language of ours by `Accept-Language` (`uk-UA,en;q=0.8` → uk;
    q-values honoured, the earlier of equal weights wins), else `default`."""
    best: tuple[float, Language] | None = None
    for item in (accept_language or "").split(",")[:_MAX_ITEMS]:
        tag, _, params = item.strip().partition(";")
        language = _BY_TAG.get(tag.strip().split("-")[0].lower())
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
