"""Our app's JWTs: issue (HS256 or RS256 with a private key) and verify with a pinned algorithm."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

from foryou.config import Settings

_LEEWAY_SECONDS = 30
# Tokens whose signature and claims were already checked, so that a client polling with the
# same token costs one dictionary lookup instead of a signature check. Only what does not
# depend on the time is remembered (the same bytes under the same key always verify the same
# way); expiry is checked on every request, and keys only change with a restart.
_CHECKED_CAPACITY = 4096


class InvalidToken(Exception):
    """Missing, malformed, expired, or signed for someone else."""


@dataclass(frozen=True)
class TokenSubject:
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class _CheckedToken:
    subject: TokenSubject
    exp: float
    nbf: float


class AppTokens:
    """One algorithm per deployment: HS256 with the shared secret, or RS256 with a public key."""

    def __init__(self, settings: Settings, jwt_secret: str | None) -> None:
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.ttl = timedelta(seconds=settings.jwt_ttl_seconds)
        self._checked: dict[str, _CheckedToken] = {}
        self._signing_key: Any
        self._verify_key: Any
        if settings.jwt_public_key is not None:
            self.algorithm = "RS256"
            # Parsed once here: PyJWT would parse a PEM string again on every request.
            rsa = RSAAlgorithm(RSAAlgorithm.SHA256)
            self._verify_key = rsa.prepare_key(settings.jwt_public_key.get_secret_value())
            private = settings.jwt_private_key
            self._signing_key = rsa.prepare_key(private.get_secret_value()) if private else None
        else:
            if not jwt_secret:
                raise ValueError("a JWT secret or public key is required")
            self.algorithm = "HS256"
            self._verify_key = jwt_secret
            self._signing_key = jwt_secret

    @property
    def can_issue(self) -> bool:
        return self._signing_key is not None

    def issue(self, user_id: uuid.UUID, now: datetime) -> str:
        if self._signing_key is None:
            raise InvalidToken("this deployment verifies tokens issued by the host app")
        claims = {
            "sub": str(user_id),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "token_use": "access",
        }
        return jwt.encode(claims, self._signing_key, algorithm=self.algorithm)

    def verify(self, token: str, now: datetime) -> TokenSubject:
        checked = self._checked.get(token)
        if checked is None:
            checked = self._check_signature_and_claims(token)
            if len(self._checked) >= _CHECKED_CAPACITY:
                # Oldest first (dicts keep insertion order): a bounded cache, no sweeps.
                del self._checked[next(iter(self._checked))]
            self._checked[token] = checked
        # Times are checked against the injected clock, not the machine's, on every use.
        moment = now.timestamp()
        if checked.exp + _LEEWAY_SECONDS < moment or checked.nbf - _LEEWAY_SECONDS > moment:
            raise InvalidToken("token not valid now")
        return checked.subject

    def _check_signature_and_claims(self, token: str) -> _CheckedToken:
        """Everything about a token that does not depend on the time."""
        try:
            claims = jwt.decode(
                token,
                self._verify_key,
                # Pinned: the token header never chooses the algorithm.
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=_LEEWAY_SECONDS,
                options={
                    "require": ["exp", "iat", "sub", "iss", "aud"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            raise InvalidToken("token rejected") from None
        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf", claims.get("iat"))
        if not all(isinstance(value, int | float) for value in (exp, iat, nbf)):
            raise InvalidToken("token times malformed")
        assert isinstance(exp, int | float)
        assert isinstance(nbf, int | float)
        if claims.get("token_use", "access") != "access":
            raise InvalidToken("not an access token")
        try:
            subject = TokenSubject(user_id=uuid.UUID(str(claims["sub"])))
        except ValueError:
            raise InvalidToken("subject is not a user id") from None
        return _CheckedToken(subject, float(exp), float(nbf))
