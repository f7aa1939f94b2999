"""Liveness and readiness for orchestrators (no prefix, no auth)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from foryou.deps import ServicesDep
from foryou.errors import error_body

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(services: ServicesDep) -> JSONResponse | dict[str, str]:
    try:
        await services.db.ping()
    except Exception:
        return JSONResponse(
            error_body("not_ready", "The database is not reachable."), status_code=503
        )
    return {"status": "ready"}
