"""The small HTML pages a person sees on the browser routes of the connect flow.

Every page is in the reader's language (uk/en/ru by `Accept-Language`), escapes everything it
shows and loads nothing from anywhere (the routes send a CSP that forbids it anyway).
"""

from __future__ import annotations

from html import escape
from typing import Literal

from foryou.languages import preferred_language

Language = Literal["uk", "en", "ru"]
LANGUAGES: tuple[Language, ...] = ("uk", "en", "ru")
DEFAULT_LANGUAGE: Language = "en"

_TEXT: dict[str, dict[Language, str]] = {
    "start_title": {
        "uk": "Підключення amoCRM",
        "en": "Connect amoCRM",
        "ru": "Подключение amoCRM",
    },
    "start_intro": {
        "uk": "Це підключення amoCRM належатиме обліковому запису ForYou:",
        "en": "This amoCRM connection will belong to the ForYou account:",
        "ru": "Это подключение amoCRM будет принадлежать учётной записи ForYou:",
    },
    "start_warning": {
        "uk": "Якщо це не ваш обліковий запис, закрийте цю сторінку й почніть підключення "
        "у власному застосунку.",
        "en": "If this is not your account, close this page and start connecting from your "
        "own app.",
        "ru": "Если это не ваша учётная запись, закройте эту страницу и начните подключение "
        "в своём приложении.",
    },
    "start_button": {
        "uk": "Продовжити до amoCRM",
        "en": "Continue to amoCRM",
        "ru": "Продолжить в amoCRM",
    },
    "pending_title": {
        "uk": "Майже готово",
        "en": "Almost done",
        "ru": "Почти готово",
    },
    "pending_message": {
        "uk": "Поверніться до застосунку, щоб завершити підключення amoCRM.",
        "en": "Return to the app to finish connecting amoCRM.",
        "ru": "Вернитесь в приложение, чтобы завершить подключение amoCRM.",
    },
    "error_title": {
        "uk": "amoCRM не підключено",
        "en": "amoCRM not connected",
        "ru": "amoCRM не подключена",
    },
    "unknown_title": {
        "uk": "Це посилання не працює",
        "en": "This link does not work",
        "ru": "Эта ссылка не работает",
    },
    "unknown_app": {
        "uk": "Ми не знаємо, з якого застосунку почалося підключення. Відкрийте застосунок "
        "ForYou і почніть підключення знову.",
        "en": "We cannot tell which app this connection was started from. Open the ForYou app "
        "and start connecting again.",
        "ru": "Мы не знаем, из какого приложения началось подключение. Откройте приложение "
        "ForYou и начните подключение заново.",
    },
    "return_button": {
        "uk": "Повернутися до застосунку",
        "en": "Return to the app",
        "ru": "Вернуться в приложение",
    },
    "web_button": {
        "uk": "Відкрити ForYou у браузері",
        "en": "Open ForYou in the browser",
        "ru": "Открыть ForYou в браузере",
    },
    "code": {"uk": "Код", "en": "Code", "ru": "Код"},
}

# What went wrong, by the error code the app also receives.
_REASONS: dict[str, dict[Language, str]] = {
    "amo_state_invalid": {
        "uk": "Це посилання на підключення вже використане або недійсне. Поверніться до "
        "застосунку й почніть підключення знову.",
        "en": "This connection link has already been used or is not valid. Return to the app "
        "and start connecting again.",
        "ru": "Эта ссылка на подключение уже использована или недействительна. Вернитесь в "
        "приложение и начните подключение заново.",
    },
    "amo_state_expired": {
        "uk": "Час на підключення минув. Поверніться до застосунку й почніть знову.",
        "en": "This connection attempt has expired. Return to the app and start again.",
        "ru": "Время на подключение истекло. Вернитесь в приложение и начните заново.",
    },
    "amo_access_denied": {
        "uk": "Доступ в amoCRM не надано. Якщо передумаєте, почніть підключення знову.",
        "en": "Access was not granted in amoCRM. If you change your mind, start connecting again.",
        "ru": "Доступ в amoCRM не предоставлен. Если передумаете, начните подключение заново.",
    },
    "amo_binder_mismatch": {
        "uk": "Підключення почалося в іншому браузері. Почніть його знову з застосунку.",
        "en": "This connection was started in another browser. Start again from the app.",
        "ru": "Подключение началось в другом браузере. Начните его заново из приложения.",
    },
    "validation_error": {
        "uk": "Посилання пошкоджене або неповне.",
        "en": "The link is damaged or incomplete.",
        "ru": "Ссылка повреждена или неполна.",
    },
    "too_many_requests": {
        "uk": "Забагато спроб. Зачекайте кілька хвилин і спробуйте знову.",
        "en": "Too many attempts. Wait a few minutes and try again.",
        "ru": "Слишком много попыток. Подождите несколько минут и попробуйте снова.",
    },
}
_REASON_FALLBACK: dict[Language, str] = {
    "uk": "Підключення не вдалося. Поверніться до застосунку й спробуйте знову.",
    "en": "The connection did not complete. Return to the app and try again.",
    "ru": "Подключение не удалось. Вернитесь в приложение и попробуйте снова.",
}


def page_language(accept_language: str | None) -> Language:
    """The language of a page: the reader's preferred one of ours by `Accept-Language`."""
    return preferred_language(accept_language, LANGUAGES, DEFAULT_LANGUAGE)


def _page(language: Language, title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang={language}><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def _button(url: str, label: str) -> str:
    return f'<p><a href="{escape(url, quote=True)}">{escape(label)}</a></p>'


def _reason(code: str, language: Language) -> str:
    text = _REASONS.get(code, _REASON_FALLBACK)[language]
    return (
        f"<p>{escape(text)}</p>"
        f"<p>{escape(_TEXT['code'][language])}: <code>{escape(code)}</code></p>"
    )


def start_page(
    language: Language, consent_url: str, holder_name: str | None, holder_email: str
) -> str:
    """`oauth/start`: whose ForYou account the connection is for, and the way on to amoCRM."""
    who = escape(holder_email)
    if holder_name:
        who = f"{escape(holder_name)} ({who})"
    body = (
        f"<p>{escape(_TEXT['start_intro'][language])}</p><p><strong>{who}</strong></p>"
        f"<p>{escape(_TEXT['start_warning'][language])}</p>"
        f"{_button(consent_url, _TEXT['start_button'][language])}"
    )
    return _page(language, _TEXT["start_title"][language], body)


def return_page(language: Language, return_url: str, code: str | None) -> str:
    """Back to the app: the result is pending there (`code` None) or the flow failed."""
    if code is None:
        title = _TEXT["pending_title"][language]
        message = f"<p>{escape(_TEXT['pending_message'][language])}</p>"
    else:
        title = _TEXT["error_title"][language]
        message = _reason(code, language)
    return _page(language, title, message + _button(return_url, _TEXT["return_button"][language]))


def unknown_flow_page(language: Language, code: str, web_app_url: str | None) -> str:
    """No flow could be tied to the request, so there is no known app to return to."""
    body = _reason(code, language) + f"<p>{escape(_TEXT['unknown_app'][language])}</p>"
    if web_app_url is not None:
        body += _button(web_app_url, _TEXT["web_button"][language])
    return _page(language, _TEXT["unknown_title"][language], body)
