"""The ASGI application: `create_app(settings)`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response

from foryou.admin.router import router as admin_router
from foryou.auth.router import router as auth_router
from foryou.clock import Clock, SystemClock
from foryou.config import Settings, load_settings
from foryou.crm.router import router as crm_router
from foryou.errors import install_error_handlers
from foryou.exposure import install_api_docs, metrics_guard
from foryou.health import router as health_router
from foryou.integrations.amocrm.router import router as amocrm_router
from foryou.live.router import router as live_router
from foryou.logging import configure_logging, configure_structlog
from foryou.middleware import RequestContextMiddleware
from foryou.secrets_store import resolve_secrets
from foryou.services import build_services
from foryou.throttle_http import Throttles
from foryou.unavailable import install_unavailable_handlers
from foryou.upstream.metrics import render as render_metrics
from foryou.worker import KeepAliveWorker

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> FastAPI:
    """Build the app; `clock` and `http_client` are injectable for tests."""
    configure_structlog()
    services = build_services(
        settings, resolve_secrets(settings), clock or SystemClock(), http=http_client
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker: KeepAliveWorker | None = None
        worker_task: asyncio.Task[None] | None = None
        if settings.embedded_worker:
            worker = services.keep_alive_worker(embedded=True)
            worker_task = asyncio.create_task(worker.run_forever())
        yield
        if worker is not None and worker_task is not None:
            worker.stop()
            await worker_task
        await services.aclose()

    openapi_url = f"{API_PREFIX}/openapi.json"
    app = FastAPI(
        title="ForYou CRM Connect",
        version="1.0.0",
        openapi_url=openapi_url if settings.docs_enabled else None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    if settings.docs_enabled:
        install_api_docs(app, docs_url=f"{API_PREFIX}/docs", openapi_url=openapi_url)
    # Each feature's dependency reads the one object it needs (foryou/*/deps.py); the whole
    # container stays reachable for the lifespan above and for tests, never for a route.
    app.state.users = services.users
    app.state.connections = services.connections
    app.state.disable_hook = services.disable_hook
    app.state.crm = services.crm
    app.state.live = services.live
    app.state.agency = services.agency
    app.state.admin = services.admin
    app.state.db = services.db
    app.state.services = services
    app.state.throttles = Throttles(settings, services.redis)
    install_error_handlers(app)
    install_unavailable_handlers(app)
    app.include_router(auth_router, prefix=API_PREFIX)
    app.include_router(amocrm_router, prefix=API_PREFIX)
    app.include_router(crm_router, prefix=API_PREFIX)
    app.include_router(live_router, prefix=API_PREFIX)
    app.include_router(admin_router, prefix=API_PREFIX)
    app.include_router(health_router)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(metrics_guard(settings))])
    async def metrics() -> Response:
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-Id",
                "If-None-Match",
                "Idempotency-Key",
            ],
            expose_headers=["X-Request-Id", "Retry-After", "ETag", "Idempotency-Replayed"],
            max_age=600,
        )
    # Outermost: every response, errors and CORS preflights included, gets the headers.
    app.add_middleware(RequestContextMiddleware, hsts=settings.is_production)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `foryou serve`."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    # What the process built to start (modules, routes, schemas) lives as long as it does:
    # frozen out of the collector's view, full collections under load walk only what requests
    # allocate, which keeps their pauses, and the latency tail, short.
    gc.collect()
    gc.freeze()
    return app
