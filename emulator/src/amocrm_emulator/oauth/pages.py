"""HTML of the consent page: plain forms that work in any browser without JavaScript."""

from __future__ import annotations

from html import escape

from amocrm_emulator.state.models import Account, Integration, User

_STYLE = """
body{font-family:-apple-system,Segoe UI,Roboto,Arial,sans-serif;background:#f1f4f7;margin:0}
main{max-width:420px;margin:48px auto;background:#fff;border-radius:8px;padding:28px 32px;
box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 16px}p{color:#4d5359;line-height:1.4}
label{display:block;margin:12px 0 4px;font-size:14px;color:#4d5359}
input[type=text],input[type=password],select{width:100%;box-sizing:border-box;padding:9px;
border:1px solid #c8ccd0;border-radius:4px;font-size:15px}
button{margin-top:18px;padding:10px 18px;border:0;border-radius:4px;font-size:15px;cursor:pointer}
.allow{background:#4c8bf7;color:#fff}.deny{background:#e5e8eb;color:#333;margin-left:8px}
.error{color:#c0392b}.scopes li{margin:4px 0}.muted{color:#8a9096;font-size:13px}
"""


def _page(title: str, body: str, brand: str) -> str:
    return (
        '<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} — {escape(brand)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def brand_for(base_domain: str | None) -> str:
    return "Kommo" if base_domain == "kommo.com" else "amoCRM"


def sign_in_page(
    integration: Integration, brand: str, csrf: str, error: str | None = None, login: str = ""
) -> str:
    error_html = f'<p class="error">{escape(error)}</p>' if error else ""
    body = (
        f"<h1>Вход в {escape(brand)}</h1>"
        f"<p>Интеграция «{escape(integration.name)}» запрашивает доступ к вашему аккаунту.</p>"
        f"{error_html}"
        '<form method="post">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
        '<label for="login">Логин</label>'
        f'<input type="text" id="login" name="login" value="{escape(login)}" '
        'autocomplete="username" required>'
        '<label for="password">Пароль</label>'
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password" required>'
        '<button type="submit" class="allow">Войти</button>'
        "</form>"
    )
    return _page("Вход", body, brand)


def consent_page(
    integration: Integration, brand: str, user: User, accounts: list[Account], csrf: str
) -> str:
    if len(accounts) == 1:
        account = accounts[0]
        choice = (
            f"<p>Аккаунт: <b>{escape(account.name)}</b> "
            f'<span class="muted">({escape(account.host)})</span></p>'
            f'<input type="hidden" name="account" value="{account.id}">'
        )
    else:
        options = "".join(
            f'<option value="{a.id}">{escape(a.name)} ({escape(a.host)})</option>' for a in accounts
        )
        choice = (
            '<label for="account">Аккаунт</label>'
            f'<select id="account" name="account">{options}</select>'
        )
    body = (
        f"<h1>{escape(integration.name)}</h1>"
        f"<p>Вы вошли как <b>{escape(user.name)}</b> "
        f'<span class="muted">({escape(user.login)})</span>.</p>'
        '<p>Интеграция получит доступ:</p><ul class="scopes">'
        "<li>к данным аккаунта (сделки, контакты, задачи)</li>"
        "<li>к уведомлениям</li></ul>"
        '<form method="post">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
        f"{choice}"
        '<button type="submit" name="decision" value="allow" class="allow">Разрешить</button>'
        '<button type="submit" name="decision" value="deny" class="deny">Отказать</button>'
        "</form>"
    )
    return _page("Предоставление доступа", body, brand)


def error_page(title: str, message: str, brand: str) -> str:
    return _page(title, f'<h1>{escape(title)}</h1><p class="error">{escape(message)}</p>', brand)
