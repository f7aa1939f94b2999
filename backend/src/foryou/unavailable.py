"""A database that cannot be reached answers 503 `service_unavailable`, not 500.

Connection failures (refused, reset, timed out, the pool exhausted, the server shutting down)
are an outage that ends by itself: the client should wait and retry, which is what 503 with
`Retry-After` says. The pool checks connections before use (`pool_pre_ping`), so requests
succeed again as soon as the database is back. Programming errors (bad SQL, constraint
violations) stay 500 `internal_error`.
"""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa

from foryou.errors import error_body
from foryou.logging import get_logger

log = get_logger(__name__)

RETRY_AFTER_SECONDS = 5

#: What SQLAlchemy and the drivers raise while the database cannot be reached. OSError
#: covers refused and reset connections and TimeoutError (its subclass) from the drivers.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    sa.OperationalError,
    sa.InterfaceError,
    sa.TimeoutError,
    sa.DisconnectionError,
    OSError,
    asyncpg.PostgresConnectionError,
    # The server is shutting down, restarting or refusing new sessions for now.
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)


def is_database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, DATABASE_UNAVAILABLE)


async def _on_database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    log.error("database_unavailable", error_type=type(exc).__name__)
    return JSONResponse(
        error_body("service_unavailable", "The service is temporarily unavailable; try again."),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _on_dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    # A DBAPIError is only an outage when the connection went away with it; anything else is
    # a bug and goes on to the 500 answer.
    if is_database_unavailable(exc):
        return await _on_database_unavailable(request, exc)
    raise exc


def install_unavailable_handlers(app: FastAPI) -> None:
    for error_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_type, _on_database_unavailable)
    app.add_exception_handler(sa.DBAPIError, _on_dbapi_error)
