"""The fixed values every harness shares: backend tests, emulator tests and the benchmarks.

One place for the test integration, the backend's test secrets, the emulator's seeded account
and the addresses of the test servers, so a suite cannot drift from another. Nothing here is a
real secret: the values exist only in test processes. It lives next to the other harness code
in `scripts/` (importable as `scripts.harness_constants` from the repository root, which pytest
puts on its path), because neither the backend nor the emulator package should ship it.
"""

from __future__ import annotations

import base64
import os

# ---- the test integration (registered with every test emulator) ------------------------------
CLIENT_ID = "6f6c3c4e-4d9b-4a43-9a59-6c1b1f0f9e21"
# Long and distinctive, so a leak into a log or a response is found by a plain search.
CLIENT_SECRET = "s3cr3t-" + "k" * 57

# ---- the backend under test --------------------------------------------------------------------
PUBLIC_URL = "http://testserver"
API = "/api/v1"
AMO = f"{API}/integrations/amo-crm"
REDIRECT_URI = f"{PUBLIC_URL}{AMO}/oauth/callback"
BINDER_COOKIE = "foryou_amo_flow"
JWT_SECRET = "test-jwt-secret-" + "x" * 60
ENCRYPTION_KEY_1 = base64.b64encode(b"\x01" * 32).decode()
ENCRYPTION_KEY_2 = base64.b64encode(b"\x02" * 32).decode()
# The password of every app user the tests create.
PASSWORD = "correct horse battery staple"  # noqa: S105 - exists only in test databases

# ---- the emulator's seed (the same after every reset) ------------------------------------------
ACCOUNT_HOST = "reforyou.amocrm.ru"
ACCOUNT_ID = 31920194
AMO_API = f"https://{ACCOUNT_HOST}/api/v4"
TOKEN_URL = f"https://{ACCOUNT_HOST}/oauth2/access_token"
ADMIN_ID = 581651
BROKER1_ID = 581652
BROKER9_ID = 581660  # responsible for no leads
GROUP_LEAD_ID = 581657  # sees the leads of the "Vladimir Team" group
KOMMO_HOST = "foryouglobal.kommo.com"
KOMMO_ACCOUNT_ID = 32045871
SEEDED_PASSWORDS = {
    "admin@reforyou.example": "admin-pass",
    **{f"broker{i}@reforyou.example": f"broker{i}-pass" for i in range(1, 10)},
    "admin@foryouglobal.example": "kommo-admin-pass",
    "agent1@foryouglobal.example": "agent1-pass",
}

# ---- the servers the tests use (CI starts both on these addresses) -----------------------------
POSTGRES_URL = os.environ.get(
    "FORYOU_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("FORYOU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
