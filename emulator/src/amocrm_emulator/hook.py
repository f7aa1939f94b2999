"""The disable hook amoCRM sends when an integration is switched off in an account."""

from __future__ import annotations

import hashlib
import hmac

USER_AGENT = "amoService-oAuth-Code-Sender/1.0"
HOOK_TIMEOUT_SECONDS = 10.0


def hook_signature(client_secret: str, client_uuid: str, account_id: int) -> str:
    """hex(HMAC-SHA256(key=client_secret, msg="{client_uuid}|{account_id}"))."""
    message = f"{client_uuid}|{account_id}".encode()
    return hmac.new(client_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


async def send_disable_hook(url: str, client_id: str, client_secret: str, account_id: int) -> int:
    """`GET {url}?account_id&client_uuid&signature`; returns the hook's HTTP status."""
    import httpx  # imported here: httpx is slow to import and only this path needs it

    params = {
        "account_id": str(account_id),
        "client_uuid": client_id,
        "signature": hook_signature(client_secret, client_id, account_id),
    }
    async with httpx.AsyncClient(timeout=HOOK_TIMEOUT_SECONDS, follow_redirects=False) as client:
        response = await client.get(url, params=params, headers={"User-Agent": USER_AGENT})
    return response.status_code
