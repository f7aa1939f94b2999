"""The small HTML pages a person sees on the browser routes of the connect flow.

Every page is in the reader's language (uk/en/ru by `Accept-Language`), escapes everything it
shows and loads nothing from anywhere (the routes send a CSP that forbids it anyway).
"""

from __future__ import annotations

from html import escape

from foryou.languages import LANGUAGES, Language, preferred_language

# A page may reach anyone who follows an amoCRM link: English unless they ask for ours.
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


# One shared style block: the CSP allows inline styles and nothing else (no fonts, no images,
# no scripts), so the look is system fonts and plain CSS. Colours keep text at 4.5:1 or better
# against its background in both schemes; the button is a 48 px touch target.
_STYLE = """
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#1f2937;--muted:#4b5563;
--line:#e5e7eb;--accent:#1d4ed8;--on-accent:#fff;--brand:#1d4ed8;--alert:#b91c1c}
@media (prefers-color-scheme:dark){:root{--bg:#111827;--card:#1f2937;--text:#f3f4f6;
--muted:#c4cad3;--line:#374151;--accent:#2563eb;--brand:#7aa7f8;--alert:#f87171}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
-webkit-text-size-adjust:100%;overflow-wrap:anywhere}
main{max-width:28rem;margin:0 auto;padding:40px 20px}
.brand{margin:0 0 24px;font-weight:700;letter-spacing:.02em;color:var(--brand)}
h1{margin:0 0 16px;font-size:1.5rem;line-height:1.25;font-weight:650}
p{margin:0 0 16px}
.muted{color:var(--muted);font-size:.9375rem}
.card{margin:0 0 16px;padding:16px;background:var(--card);border:1px solid var(--line);
border-radius:12px}
.card p:last-child{margin-bottom:0}
.alert{border-left:4px solid var(--alert)}
.holder{margin-bottom:4px;font-weight:600;font-size:1.0625rem}
.email{color:var(--muted)}
code{font:.875rem ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.button{display:block;min-height:48px;margin:24px 0 0;padding:12px 16px;border-radius:10px;
background:var(--accent);color:var(--on-accent);font-weight:600;text-align:center;
text-decoration:none}
.button:focus-visible{outline:3px solid var(--text);outline-offset:2px}
"""


def _page(language: Language, title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang={language}><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        f"<p class=brand>ForYou</p><h1>{escape(title)}</h1>{body}</main></body></html>"
    )


def _button(url: str, label: str) -> str:
    return f'<a class=button href="{escape(url, quote=True)}">{escape(label)}</a>'


def _reason(code: str, language: Language) -> str:
    """What went wrong and what to do, with the code support asks for, in an alert card."""
    text = _REASONS.get(code, _REASON_FALLBACK)[language]
    return (
        f'<div class="card alert"><p>{escape(text)}</p>'
        f"<p class=muted>{escape(_TEXT['code'][language])}: <code>{escape(code)}</code></p></div>"
    )


def start_page(
    language: Language, consent_url: str, holder_name: str | None, holder_email: str
) -> str:
    """`oauth/start`: whose ForYou account the connection is for, and the way on to amoCRM."""
    if holder_name:
        holder = (
            f"<p class=holder>{escape(holder_name)}</p><p class=email>{escape(holder_email)}</p>"
        )
    else:
        holder = f"<p class=holder>{escape(holder_email)}</p>"
    body = (
        f"<p>{escape(_TEXT['start_intro'][language])}</p><div class=card>{holder}</div>"
        f"<p class=muted>{escape(_TEXT['start_warning'][language])}</p>"
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
