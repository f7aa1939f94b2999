"""`GET/POST/DELETE /api/v4/webhooks`: the account's webhooks, for admins only.

One list per account, keyed by `destination`: a POST to a known destination replaces its
events (and re-enables a disabled one, like saving it in the UI); there is no PATCH and no
GET by id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from amocrm_emulator.api.common import (
    Caller,
    authenticated,
    forbidden,
    query_dict,
    read_body,
    to_int,
)
from amocrm_emulator.http import FieldError, JSONDictT, hal, no_content, problem, validation_errors
from amocrm_emulator.state.models import Webhook

MAX_WEBHOOKS = 100
WEBHOOK_EVENTS = frozenset(
    f"{action}_{noun}"
    for noun, actions in {
        "lead": ("add", "update", "delete", "restore", "status", "responsible", "note"),
        "contact": ("add", "update", "delete", "restore", "responsible", "note"),
        "company": ("add", "update", "delete", "restore", "responsible", "note"),
        "customer": ("add", "update", "delete", "responsible", "note"),
        "task": ("add", "update", "delete", "responsible"),
        "talk": ("add", "update"),
    }.items()
    for action in actions
) | {"add_chat_template_review"}


def webhook_json(webhook: Webhook) -> JSONDictT:
    return {
        "id": webhook.id,
        "destination": webhook.destination,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        "account_id": webhook.account_id,
        "created_by": webhook.created_by,
        "sort": webhook.sort,
        "disabled": webhook.disabled,
        "settings": list(webhook.settings),
    }


def _account_webhooks(caller: Caller) -> list[Webhook]:
    found = [
        w for w in caller.emulator.state.webhooks.values() if w.account_id == caller.account.id
    ]
    return sorted(found, key=lambda w: (w.sort, w.id))


def _destination(data: dict[str, Any], errors: list[FieldError]) -> str | None:
    destination = data.get("destination")
    parts = urlsplit(destination) if isinstance(destination, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        errors.append(FieldError("InvalidValue", "destination", "A URL is expected"))
        return None
    assert isinstance(destination, str)
    return destination


@authenticated
async def list_webhooks(request: Request, caller: Caller) -> Response:
    if not caller.is_admin:
        return forbidden()
    raw_filter = query_dict(request).get("filter")
    wanted = raw_filter.get("destination") if isinstance(raw_filter, dict) else None
    webhooks = [w for w in _account_webhooks(caller) if wanted is None or w.destination == wanted]
    if not webhooks:
        return no_content()
    return hal(
        {
            "_total_items": len(webhooks),
            "_links": caller.link("/api/v4/webhooks"),
            "_embedded": {"webhooks": [webhook_json(w) for w in webhooks]},
        }
    )


@authenticated
async def subscribe(request: Request, caller: Caller) -> Response:
    if not caller.is_admin:
        return forbidden()
    body = await read_body(request, "webhooks")
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return validation_errors({0: [FieldError("InvalidType", "", "An object is expected")]})
    errors: list[FieldError] = []
    destination = _destination(body, errors)
    settings = body.get("settings")
    if (
        not isinstance(settings, list)
        or not settings
        or any(not isinstance(s, str) or s not in WEBHOOK_EVENTS for s in settings)
    ):
        errors.append(FieldError("NotSupportedChoice", "settings", "Unknown webhook events"))
    sort = to_int(body.get("sort", 1))
    if sort is None:
        errors.append(FieldError("InvalidType", "sort", "An integer is expected"))
    existing = next((w for w in _account_webhooks(caller) if w.destination == destination), None)
    if existing is None and len(_account_webhooks(caller)) >= MAX_WEBHOOKS:
        errors.append(FieldError("InvalidValue", "destination", "At most 100 webhooks"))
    if errors or destination is None or sort is None or not isinstance(settings, list):
        return validation_errors({0: errors})
    state = caller.emulator.state
    now = caller.emulator.clock.now_int()
    if existing is None:
        existing = Webhook(
            id=state.new_id("webhook"),
            account_id=caller.account.id,
            destination=destination,
            settings=[],
            sort=sort,
            created_by=caller.user.id,
            created_at=now,
            updated_at=now,
        )
        state.webhooks[existing.id] = existing
    existing.settings = list(dict.fromkeys(settings))
    existing.sort, existing.updated_at = sort, now
    existing.disabled, existing.failures = False, []
    caller.emulator.changed()
    return hal(webhook_json(existing), status=201)


@authenticated
async def unsubscribe(request: Request, caller: Caller) -> Response:
    if not caller.is_admin:
        return forbidden()
    body = await read_body(request, "webhooks")
    if isinstance(body, Response):
        return body
    errors: list[FieldError] = []
    destination = _destination(body if isinstance(body, dict) else {}, errors)
    if errors:
        return validation_errors({0: errors})
    webhook = next((w for w in _account_webhooks(caller) if w.destination == destination), None)
    if webhook is None:
        return problem(404, "Webhook not found")
    del caller.emulator.state.webhooks[webhook.id]
    caller.emulator.changed()
    return no_content()
