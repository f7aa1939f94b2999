"""App users and JWT: login, /me, and 401/403 for everything that is not allowed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from backend_support import Backend
from foryou.auth.models import Role, User
from sqlalchemy import update

from scripts.harness_constants import AMO, API, JWT_SECRET, PASSWORD

JWT_ENDPOINTS = [
    ("GET", f"{API}/auth/me"),
    ("GET", f"{AMO}/status"),
    ("POST", f"{AMO}/authorize"),
    ("POST", f"{AMO}/disconnect"),
    ("POST", f"{AMO}/exchange-code"),
    ("GET", f"{API}/crm/pipelines"),
    ("GET", f"{API}/crm/leads"),
]
CRM_ENDPOINTS = [entry for entry in JWT_ENDPOINTS if entry[1] != f"{API}/auth/me"]


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def forged(user_id: uuid.UUID, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "iss": "foryou",
        "aud": "foryou-app",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes.pop("claims", {}))
    key = changes.pop("key", JWT_SECRET)
    algorithm = changes.pop("algorithm", "HS256")
    return jwt.encode(claims, key, algorithm=algorithm)


async def test_login_and_me(backend: Backend) -> None:
    email, user_id = await backend.create_user(role=Role.BROKER, name="Olena")
    response = await backend.client.post(
        f"{API}/auth/login", json={"email": email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["tokenType"] == "Bearer"
    assert data["expiresIn"] == 7 * 86400
    assert data["user"] == {
        "id": str(user_id),
        "email": email,
        "name": "Olena",
        "role": "BROKER",
        "status": "ACTIVE",
    }
    me = await backend.client.get(
        f"{API}/auth/me", headers={"Authorization": f"Bearer {data['accessToken']}"}
    )
    assert me.json() == {"success": True, "data": data["user"]}


@pytest.mark.parametrize("password", ["wrong", PASSWORD + " "])
async def test_login_with_a_wrong_password(backend: Backend, password: str) -> None:
    email, _ = await backend.create_user()
    response = await backend.client.post(
        f"{API}/auth/login", json={"email": email, "password": password}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


async def test_login_with_an_unknown_email(backend: Backend) -> None:
    response = await backend.client.post(
        f"{API}/auth/login", json={"email": "nobody@foryou.test", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(("method", "path"), JWT_ENDPOINTS)
async def test_authorization_errors_are_401(backend: Backend, method: str, path: str) -> None:
    _, user_id = await backend.create_user()
    bad_headers = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {forged(user_id, key='another-secret-' + 'y' * 30)}"},
        {"Authorization": f"Bearer {forged(user_id, claims={'exp': int(time.time()) - 120})}"},
        {"Authorization": f"Bearer {forged(user_id, claims={'aud': 'someone-else'})}"},
        {"Authorization": f"Bearer {forged(user_id, claims={'iss': 'someone-else'})}"},
        {"Authorization": f"Bearer {forged(uuid.uuid4())}"},
        {"Authorization": f"Bearer {forged(user_id, claims={'token_use': 'refresh'})}"},
        {"Authorization": f"Bearer {forged(user_id, key='', algorithm='none')}"},
        {"Authorization": f"Bearer {forged(user_id, algorithm='HS512')}"},
    ]
    for headers in bad_headers:
        response = await backend.client.request(method, path, headers=headers)
        assert response.status_code == 401, (headers, response.text)
        body = response.json()
        assert body["success"] is False
        assert body["error"]["code"] == "unauthorized"
        assert body["error"]["requestId"]


async def test_expired_app_token_by_the_clock(backend: Backend) -> None:
    headers = await backend.new_broker()
    backend.clock.advance(7 * 86400 + 120)
    response = await backend.client.get(f"{API}/auth/me", headers=headers)
    assert response.status_code == 401


async def test_a_token_already_accepted_still_expires_by_the_clock(backend: Backend) -> None:
    # The signature of a token is checked once per process; its times on every request.
    headers = await backend.new_broker()
    for path in (f"{API}/auth/me", f"{AMO}/status"):
        assert (await backend.client.get(path, headers=headers)).status_code == 200
    backend.clock.advance(7 * 86400 + 120)
    for path in (f"{API}/auth/me", f"{AMO}/status"):
        response = await backend.client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthorized"


async def test_a_user_blocked_after_using_a_token_gets_401_on_the_next_request(
    backend: Backend,
) -> None:
    email, user_id = await backend.create_user()
    headers = await backend.login(email)
    for path in (f"{API}/auth/me", f"{AMO}/status"):
        assert (await backend.client.get(path, headers=headers)).status_code == 200, path
    async with backend.services.db.transaction() as session:
        await session.execute(update(User).where(User.id == user_id).values(status="BLOCKED"))
    for method, path in JWT_ENDPOINTS:
        response = await backend.client.request(method, path, headers=headers)
        assert response.status_code == 401, path


async def test_blocked_user_gets_401(backend: Backend) -> None:
    email, user_id = await backend.create_user()
    headers = await backend.login(email)
    async with backend.services.db.transaction() as session:
        await session.execute(update(User).where(User.id == user_id).values(status="BLOCKED"))
    for method, path in JWT_ENDPOINTS:
        response = await backend.client.request(method, path, headers=headers)
        assert response.status_code == 401, path
    login = await backend.client.post(
        f"{API}/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert login.status_code == 401


@pytest.mark.parametrize("role", [Role.CLIENT, Role.INVESTOR])
async def test_other_roles_get_403_on_crm_endpoints(backend: Backend, role: Role) -> None:
    headers = await backend.new_broker(role=role)
    for method, path in CRM_ENDPOINTS:
        response = await backend.client.request(method, path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"
    assert (await backend.client.get(f"{API}/auth/me", headers=headers)).status_code == 200


async def test_host_app_token_with_the_shared_secret(backend: Backend) -> None:
    _, user_id = await backend.create_user(role=Role.ADMIN)
    headers = {"Authorization": f"Bearer {forged(user_id)}"}
    response = await backend.client.get(f"{AMO}/status", headers=headers)
    assert response.status_code == 200


async def test_rs256_host_app_tokens(make_backend: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    backend = await make_backend(jwt_public_key=public_pem, jwt_secret=None)
    _, user_id = await backend.create_user()
    good = forged(user_id, key=private, algorithm="RS256")
    response = await backend.client.get(
        f"{API}/auth/me", headers={"Authorization": f"Bearer {good}"}
    )
    assert response.status_code == 200
    # HS256 "signed" with the public key (the classic algorithm confusion) is refused.
    claims = jwt.decode(good, options={"verify_signature": False})
    signing_input = b".".join(
        _b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "typ": "JWT"}, claims)
    )
    mac = hmac.new(public_pem.encode(), signing_input, hashlib.sha256).digest()
    confused = (signing_input + b"." + _b64(mac)).decode()
    for token in (confused, forged(user_id, key=JWT_SECRET)):
        refused = await backend.client.get(
            f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert refused.status_code == 401
    login = await backend.client.post(
        f"{API}/auth/login", json={"email": "a@b.test", "password": PASSWORD}
    )
    assert login.status_code == 404
    assert login.json()["error"]["code"] == "login_unavailable"
