"""The small HTML page the browser sees after the callback (escaped, no third-party assets)."""

from __future__ import annotations

from html import escape

_TEXT = {
    "connected": ("amoCRM connected", "Your amoCRM account is connected. Return to the app."),
    "error": ("amoCRM not connected", "The connection did not complete. Return to the app."),
}


def callback_page(return_url: str, status: str, code: str | None) -> str:
    title, message = _TEXT["connected" if status == "connected" else "error"]
    detail = f"<p>Code: <code>{escape(code)}</code></p>" if code else ""
    link = escape(return_url, quote=True)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p>{detail}"
        f'<p><a href="{link}">Return to the app</a></p></body></html>'
    )
