"""Application errors with stable codes, and the handlers that render them in the envelope."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from foryou.logging import get_logger
from foryou.request_context import current_request_id

log = get_logger(__name__)


class AppError(Exception):
    """An expected failure: a stable `code`, a human message and an HTTP status."""

    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        self.status_code = status_code or type(self).status_code
        self.headers = headers or {}
        self.details = details
        super().__init__(self.message)


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "Your role may not use this endpoint."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class InvalidRequest(AppError):
    """The request is well-formed but a field is not acceptable; `details` names the field."""

    status_code = 422
    code = "validation_error"
    message = "The request is invalid."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "requestId": current_request_id()}
    if details is not None:
        error["details"] = details
    return {"success": False, "error": error}


def error_response(error: AppError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, error.details),
        status_code=error.status_code,
        headers=error.headers,
    )


def unexpected_error_response(exc: Exception) -> JSONResponse:
    """500 `internal_error` for an exception no handler knows; the details go to the log only."""
    log.error("unhandled_error", error_type=type(exc).__name__, exc_info=exc)
    return JSONResponse(
        error_body("internal_error", "Something went wrong on our side."), status_code=500
    )


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in exc.errors():
        location = [str(part) for part in item.get("loc", ()) if part != "body"]
        # Only the field and the reason: echoing the input could echo a secret.
        details.append({"field": ".".join(location) or "body", "message": str(item.get("msg"))})
    return details


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return error_response(exc)

    async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(InvalidRequest(details=_validation_details(exc)))

    async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
