"""Liveness and readiness for orchestrators (no prefix, no auth)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from foryou.db import Database
from foryou.errors import error_body

router = APIRouter(tags=["ops"])


async def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(db: Annotated[Database, Depends(get_database)]) -> JSONResponse | dict[str, str]:
    try:
        await db.ping()
    except Exception:
        return JSONResponse(
            error_body("not_ready", "The database is not reachable."), status_code=503
        )
    return {"status": "ready"}
