"""What the service shows besides its API: the interactive docs and the metrics guard.

The docs page loads Swagger UI from the `swagger-ui-bundle-v2` package through the service
itself, never from a public CDN, and has no inline script, so its Content-Security-Policy
allows scripts from the service alone.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

# The package ships assets and a path, no type information.
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from foryou.config import Settings
from foryou.errors import Unauthorized

#: For /api/v1/docs and its assets; Swagger UI sets style attributes, hence inline styles.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{docs_url}/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{docs_url}/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{docs_url}/assets/swagger-ui-bundle.js"></script>
<script src="{docs_url}/init.js"></script>
</body>
</html>
"""

_INIT = """window.ui = SwaggerUIBundle({{
  url: {openapi_url!r},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
}});
"""


def install_api_docs(app: FastAPI, *, docs_url: str, openapi_url: str) -> None:
    """Serve Swagger UI at `docs_url` for the schema at `openapi_url`, all from this service."""
    page = _PAGE.format(title=app.title, docs_url=docs_url)
    init = _INIT.format(openapi_url=openapi_url)
    app.mount(f"{docs_url}/assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get(docs_url, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{docs_url}/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript")


def metrics_guard(settings: Settings) -> Callable[[Request], Awaitable[None]]:
    """A dependency admitting `Authorization: Bearer <FORYOU_METRICS_TOKEN>` (when set)."""
    expected = (
        f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        if settings.metrics_token is not None
        else None
    )

    async def guard(request: Request) -> None:
        if expected is None:
            return
        given = request.headers.get("authorization", "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("A metrics token is required.")

    return guard
