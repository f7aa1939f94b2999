"""App users: creation, login, and resolving a bearer token to an active user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from foryou.auth import repository
from foryou.auth.models import CRM_ROLES, CurrentUser, Role, User, UserStatus
from foryou.auth.passwords import Passwords
from foryou.auth.tokens import AppTokens, InvalidToken, TokenSubject
from foryou.clock import Clock
from foryou.db import Database
from foryou.errors import AppError, Forbidden, Unauthorized

_REFUSED_MESSAGE = "The access token is invalid or expired."


class InvalidCredentials(AppError):
    status_code = 401
    code = "invalid_credentials"
    message = "Email or password is incorrect."


class LoginUnavailable(AppError):
    status_code = 404
    code = "login_unavailable"
    message = "This deployment signs users in through the host app."


class EmailTaken(AppError):
    status_code = 409
    code = "email_taken"
    message = "A user with this email already exists."


@dataclass(frozen=True)
class LoginResult:
    access_token: str
    expires_in: int
    user: CurrentUser


def _current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.email, user.name, user.role, user.status)


class UserService:
    def __init__(self, db: Database, tokens: AppTokens, clock: Clock, passwords: Passwords) -> None:
        self._db = db
        self._passwords = passwords
        self._tokens = tokens
        self._clock = clock

    async def create_user(
        self, *, email: str, password: str, role: Role, name: str | None = None
    ) -> CurrentUser:
        now = self._clock.now()
        email = email.strip().lower()
        async with self._db.write_transaction() as session:
            if await repository.get_user_by_email(session, email) is not None:
                raise EmailTaken()
            user = User(
                id=uuid.uuid4(),
                email=email,
                password_hash=self._passwords.hash(password),
                name=name or email.split("@", 1)[0],
                role=role.value,
                status=UserStatus.ACTIVE.value,
                created_at=now,
                updated_at=now,
            )
            await repository.add_user(session, user)
            return _current(user)

    async def login(self, email: str, password: str) -> LoginResult:
        if not self._tokens.can_issue:
            raise LoginUnavailable()
        async with self._db.transaction() as session:
            user = await repository.get_user_by_email(session, email.strip())
        valid = self._passwords.verify(user.password_hash if user else None, password)
        if user is None or not valid or user.status != UserStatus.ACTIVE:
            raise InvalidCredentials()
        token = self._tokens.issue(user.id, self._clock.now())
        return LoginResult(token, int(self._tokens.ttl.total_seconds()), _current(user))

    def verify_bearer(self, bearer: str | None) -> TokenSubject:
        """The subject of a valid bearer token (signature and times only); 401 otherwise.

        The user behind it still has to be read and `admit`ted: a valid token of a blocked
        or deleted user is refused there.
        """
        if not bearer:
            raise Unauthorized()
        try:
            return self._tokens.verify(bearer, self._clock.now())
        except InvalidToken:
            raise Unauthorized(_REFUSED_MESSAGE) from None

    async def authenticate(self, bearer: str | None) -> CurrentUser:
        """The active user behind a bearer token; 401 for anything else, blocked users included."""
        subject = self.verify_bearer(bearer)
        async with self._db.read() as connection:
            user = await repository.get_current_user(connection, subject.user_id)
        return admit(user)

    async def user_by_id(self, user_id: uuid.UUID) -> CurrentUser | None:
        """The user a verified credential other than a bearer token (a stream ticket) names."""
        async with self._db.read() as connection:
            return await repository.get_current_user(connection, user_id)


def admit(user: CurrentUser | None, *, crm_only: bool = False) -> CurrentUser:
    """The user read for a verified token, if they may go on: 401 when missing or not active
    (blocked users lose access with their next request), 403 for a role outside the CRM's."""
    if user is None or user.status != UserStatus.ACTIVE:
        raise Unauthorized(_REFUSED_MESSAGE)
    if crm_only and user.role not in CRM_ROLES:
        raise Forbidden()
    return user
