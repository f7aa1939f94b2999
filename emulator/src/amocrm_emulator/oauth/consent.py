"""`GET/POST /oauth` on www.amocrm.ru / www.kommo.com: sign in, choose an account, allow or deny.

The redirect goes to the Redirect URI registered on the integration; a `redirect_uri` and any
other extra query parameters in the link are ignored, as amoCRM does.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from amocrm_emulator.core import ConsentSession, Emulator
from amocrm_emulator.hosts import HostKind
from amocrm_emulator.http import context
from amocrm_emulator.oauth import pages
from amocrm_emulator.state.models import Account, Integration, User

SESSION_COOKIE = "amo_emu_session"
MAX_FORM_BYTES = 64 * 1024
MAX_SESSIONS = 10_000


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        content,
        status_code=status,
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
        },
    )


def _session(emulator: Emulator, request: Request) -> tuple[str, ConsentSession]:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    session = emulator.consent_sessions.get(cookie)
    if session is None:
        cookie = secrets.token_urlsafe(24)
        session = ConsentSession(user_id=None, csrf=secrets.token_urlsafe(24))
        sessions = emulator.consent_sessions
        if len(sessions) >= MAX_SESSIONS:
            # Forget the oldest browser, as a session expiry would; the dict keeps order.
            del sessions[next(iter(sessions))]
        sessions[cookie] = session
    return cookie, session


def _with_cookie(response: Response, cookie: str) -> Response:
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", path="/")
    return response


def _accounts_for(emulator: Emulator, request: Request, user: User) -> list[Account]:
    target = context(request).target
    accounts = emulator.state.accounts_of(user.id)
    if target.kind is HostKind.CONSENT:
        accounts = [a for a in accounts if a.base_domain == target.base_domain]
    return accounts


def _integration(emulator: Emulator, request: Request) -> Integration | None:
    client_id = request.query_params.get("client_id", "")
    return emulator.state.integrations.get(client_id) if client_id else None


def _brand(request: Request) -> str:
    return pages.brand_for(context(request).target.base_domain)


def _unknown_client(request: Request) -> HTMLResponse:
    return _html(
        pages.error_page(
            "Ошибка", "Интеграция не найдена: проверьте параметр client_id.", _brand(request)
        ),
        status=400,
    )


async def consent_get(request: Request) -> Response:
    emulator = _emulator(request)
    integration = _integration(emulator, request)
    if integration is None:
        return _unknown_client(request)
    cookie, session = _session(emulator, request)
    user = emulator.state.users.get(session.user_id) if session.user_id else None
    if user is None:
        return _with_cookie(
            _html(pages.sign_in_page(integration, _brand(request), session.csrf)), cookie
        )
    return _with_cookie(_decision_page(emulator, request, integration, user, session), cookie)


def _decision_page(
    emulator: Emulator,
    request: Request,
    integration: Integration,
    user: User,
    session: ConsentSession,
) -> HTMLResponse:
    accounts = _accounts_for(emulator, request, user)
    if not accounts:
        return _html(
            pages.error_page(
                "Нет доступных аккаунтов",
                "У этого пользователя нет аккаунтов, в которые можно установить интеграцию.",
                _brand(request),
            ),
            status=403,
        )
    return _html(pages.consent_page(integration, _brand(request), user, accounts, session.csrf))


async def consent_post(request: Request) -> Response:
    emulator = _emulator(request)
    integration = _integration(emulator, request)
    if integration is None:
        return _unknown_client(request)
    cookie, session = _session(emulator, request)
    try:
        form = await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
    except Exception:
        return _html(pages.error_page("Ошибка", "Некорректный запрос.", _brand(request)), 400)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    csrf_ok = secrets.compare_digest(
        fields.get("csrf_token", "").encode("utf-8"), session.csrf.encode("utf-8")
    )
    if not csrf_ok:
        # A stale or forged form: start over with a fresh form, as a session expiry would.
        response = _html(
            pages.sign_in_page(
                integration, _brand(request), session.csrf, error="Сессия истекла, войдите снова."
            ),
            status=403,
        )
        return _with_cookie(response, cookie)

    if "login" in fields:
        user = emulator.state.user_by_login(fields.get("login", ""))
        password = fields.get("password", "")
        if (
            user is None
            or not secrets.compare_digest(user.password.encode("utf-8"), password.encode("utf-8"))
            or not _accounts_for(emulator, request, user)
        ):
            response = _html(
                pages.sign_in_page(
                    integration,
                    _brand(request),
                    session.csrf,
                    error="Неверный логин или пароль",
                    login=fields.get("login", ""),
                ),
                status=401,
            )
            return _with_cookie(response, cookie)
        session.user_id = user.id
        session.csrf = secrets.token_urlsafe(24)
        return _with_cookie(_decision_page(emulator, request, integration, user, session), cookie)

    user = emulator.state.users.get(session.user_id) if session.user_id else None
    if user is None:
        return _with_cookie(
            _html(pages.sign_in_page(integration, _brand(request), session.csrf)), cookie
        )
    decision = fields.get("decision")
    state_param = request.query_params.get("state")
    if decision == "deny":
        params = {"error": "access_denied"}
        if state_param is not None:
            params["state"] = state_param
        params["client_id"] = integration.client_id
        return _redirect(integration.redirect_uri, params)
    if decision != "allow":
        return _with_cookie(_decision_page(emulator, request, integration, user, session), cookie)

    accounts = _accounts_for(emulator, request, user)
    chosen = _choose_account(accounts, fields.get("account"))
    if chosen is None:
        return _with_cookie(_decision_page(emulator, request, integration, user, session), cookie)
    code = emulator.tokens.issue_code(integration, chosen, user.id)
    emulator.changed()
    params = {"code": code}
    if state_param is not None:
        params["state"] = state_param
    params.update(
        {
            "referer": chosen.host,
            "platform": str(chosen.platform),
            "client_id": integration.client_id,
        }
    )
    context(request).user_id = user.id
    return _redirect(integration.redirect_uri, params)


def _choose_account(accounts: list[Account], wanted: str | None) -> Account | None:
    if not accounts:
        return None
    if wanted is None or wanted == "":
        return accounts[0] if len(accounts) == 1 else None
    for account in accounts:
        if wanted in (str(account.id), account.subdomain, account.host):
            return account
    return None


def _redirect(base: str, params: dict[str, str]) -> RedirectResponse:
    parts = urlsplit(base)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})
