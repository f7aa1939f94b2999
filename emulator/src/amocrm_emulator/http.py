"""Response shapes amoCRM uses: HAL+JSON, problem+JSON, validation errors and HTML."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from amocrm_emulator.hosts import HostTarget

HAL_JSON = "application/hal+json"

JSONDictT = dict[str, Any]
PROBLEM_JSON = "application/problem+json"


@dataclass
class RequestContext:
    """What the request log records about a request, filled in as handling goes on."""

    target: HostTarget
    request_id: str
    grant_type: str | None = None
    user_id: int | None = None
    # Which bearer token answered for the caller, masked (`token_fingerprint`): tests tell
    # apart two tokens of one amoCRM user (a broker's OAuth token, a long-lived token).
    token_fingerprint: str | None = None
    # The connection was dropped on purpose (an injected fault): no status was answered.
    dropped: bool = False

    @property
    def account_subdomain(self) -> str | None:
        return self.target.account.subdomain if self.target.account else None


def new_request_id() -> str:
    return secrets.token_hex(8)


def context(request: Request) -> RequestContext:
    ctx = request.scope.get("amo")
    assert isinstance(ctx, RequestContext)
    return ctx


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def hal(data: Any, status: int = 200) -> Response:
    return Response(_dump(data), status_code=status, media_type=HAL_JSON)


def plain_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_dump(data), status_code=status, media_type="application/json", headers=headers)


def no_content() -> Response:
    return Response(b"", status_code=204)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "ErrInternalServer",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def problem(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """An API error as amoCRM sends it: `{"title","type","status","detail"}`."""
    body: dict[str, Any] = {
        "title": _TITLES.get(status, "Error"),
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return Response(_dump(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def unauthorized(kommo: bool) -> Response:
    detail = "Invalid user name or password" if kommo else "Неверный логин или пароль"
    return problem(401, detail)


@dataclass(frozen=True)
class FieldError:
    code: str
    path: str
    detail: str


def validation_errors(errors: dict[int, list[FieldError]]) -> Response:
    """400 with amoCRM's `validation-errors` body; keys are indexes of the rejected items."""
    body = {
        "validation-errors": [
            {
                "request_id": str(index),
                "errors": [{"code": e.code, "path": e.path, "detail": e.detail} for e in items],
            }
            for index, items in sorted(errors.items())
        ],
        "title": "Bad Request",
        "type": "https://httpstatus.es/400",
        "status": 400,
        "detail": "Request validation failed",
    }
    return Response(_dump(body), status_code=400, media_type=PROBLEM_JSON)


def oauth_error(
    status: int,
    hint: str | None,
    *,
    title: str = "Некорректный запрос",
    detail: str = "В запросе отсутствует ряд параметров или параметры невалидны",
) -> Response:
    """A token-endpoint error: amoCRM's problem-details shape with a League-style hint."""
    body: dict[str, Any] = {}
    if hint is not None:
        body["hint"] = hint
    body.update(
        {
            "title": title,
            "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
            "status": status,
            "detail": detail,
        }
    )
    return Response(_dump(body), status_code=status, media_type="application/json")


def invalid_client() -> Response:
    return oauth_error(
        401, None, title="Некорректный клиент", detail="Авторизация клиента не прошла"
    )


BLOCKED_HTML = """<html>
<head><title>403 Forbidden</title></head>
<body>
<center><h1>403 Forbidden</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def blocked(retry_after: int) -> Response:
    return HTMLResponse(BLOCKED_HTML, status_code=403, headers={"Retry-After": str(retry_after)})


async def read_json(request: Request, limit: int = 1_048_576) -> tuple[bool, Any]:
    """Read a JSON body; `(False, None)` when it is missing, too large or not JSON."""
    body = await request.body()
    if not body or len(body) > limit:
        return False, None
    try:
        return True, json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False, None
