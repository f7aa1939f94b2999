"""The ledger of idempotent CRM writes: one row per (app user, Idempotency-Key).

New leads (several steps), notes and tasks (one step each) share it. Every amoCRM id is
stored the moment amoCRM returns it, so a retry with the same key resumes after the last
step known to have succeeded; a step whose POST was sent but whose answer never arrived is
looked up in amoCRM before it is sent again, so a lost answer does not become a duplicate.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from foryou.clock import Clock
from foryou.crm import repository
from foryou.crm.models import CrmLeadSubmission, SubmissionStatus
from foryou.db import Database
from foryou.errors import AppError
from foryou.integrations.amocrm.errors import (
    AmoBadResponse,
    AmoCrmError,
    AmoRejected,
    AmoTimeout,
    AmoUnauthorized,
    AmoUnavailable,
    to_app_error,
)
from foryou.integrations.amocrm.tokens import UsableToken
from foryou.logging import get_logger

log = get_logger(__name__)

KEY_LIFETIME = timedelta(hours=24)
# Longer than four writes that each wait for a budget slot and time out.
SUBMISSION_LEASE = timedelta(seconds=120)
# After a write got no answer, amoCRM may still be working on it: a retry waits this long
# before looking the entity up, so it cannot miss one that is about to appear.
UNKNOWN_OUTCOME_SETTLE = timedelta(seconds=30)


def fingerprint(kind: str, request: dict[str, Any]) -> str:
    """SHA-256 of a normalised request and what it is: one key never serves two requests."""
    text = json.dumps({"kind": kind, **request}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyKeyReused(AppError):
    status_code = 422
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different request."


class IdempotencyInProgress(AppError):
    status_code = 409
    code = "idempotency_in_progress"
    message = "The same request is still being processed; try again shortly."


class LostSubmission(Exception):
    """Another worker took the submission over (our lease ran out)."""


class Outcome(enum.Enum):
    REFUSED = "refused"  # amoCRM turned the write down: nothing was created
    ANSWERED = "answered"  # amoCRM answered with a failure: look before sending again
    NO_ANSWER = "no_answer"  # no answer: the write may still be in flight at amoCRM


def outcome_of(error: AmoCrmError) -> Outcome:
    if isinstance(error, AmoTimeout):
        return Outcome.NO_ANSWER
    if isinstance(error, AmoUnavailable):
        # With Retry-After it is amoCRM's 429/503 refusal; without, a connection that failed
        # or dropped, possibly after amoCRM received the request.
        return Outcome.REFUSED if error.retry_after is not None else Outcome.NO_ANSWER
    if isinstance(error, AmoBadResponse) and not isinstance(error, AmoRejected):
        return Outcome.ANSWERED
    return Outcome.REFUSED


def failure_headers(error: AmoCrmError, upstream: AppError) -> dict[str, str]:
    """The upstream error's headers; after a write without an answer, a Retry-After long
    enough for amoCRM to have surely finished with the lost request."""
    headers = dict(upstream.headers)
    if outcome_of(error) is Outcome.NO_ANSWER:
        settle = math.ceil(UNKNOWN_OUTCOME_SETTLE.total_seconds())
        headers["Retry-After"] = str(max(settle, int(headers.get("Retry-After", "0"))))
    return headers


class SubmissionLedger:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def write_once(
        self,
        token: UsableToken,
        user_id: uuid.UUID,
        key: str,
        request_hash: str,
        step: str,
        *,
        check: Callable[[], Awaitable[None]],
        send: Callable[[str], Awaitable[int]],
        find_existing: Callable[[], Awaitable[int | None]],
        answer: Callable[[int], Awaitable[dict[str, Any]]],
    ) -> tuple[dict[str, Any], bool]:
        """One amoCRM entity per key (a note, a task): `check` before the first write,
        `send(request_id)` creates it, `answer(id)` is stored and replayed. True: a replay."""
        earlier = await self.completed_answer(token, user_id, key, request_hash)
        if earlier is not None:
            return earlier, True
        await check()
        submission, owner = await self.claim(token, user_id, key, request_hash)
        if submission.response_json is not None:
            stored: dict[str, Any] = json.loads(submission.response_json)
            return stored, True
        try:
            entity_id = await self.send_once(
                submission, owner, step, lambda: send(f"{submission.id}:{step}"), find_existing
            )
        except AmoCrmError as error:
            await self.fail(submission, owner, step, error)
            if isinstance(error, AmoUnauthorized):
                raise  # the token provider refreshes and runs the write again
            upstream = to_app_error(error)
            upstream.headers = failure_headers(error, upstream)
            raise upstream from None
        except LostSubmission:
            raise IdempotencyInProgress(headers={"Retry-After": "2"}) from None
        await self.record(submission, owner, **{f"{step}_id": entity_id}, attempted_step=None)
        result = await answer(entity_id)
        await self.complete(submission, owner, result)
        return result, False

    async def completed_answer(
        self, token: UsableToken, user_id: uuid.UUID, key: str, request_hash: str
    ) -> dict[str, Any] | None:
        """The stored answer of a finished request with this key (no amoCRM call), or None."""
        async with self._db.transaction() as session:
            earlier = await repository.get_submission(session, user_id, key)
        if earlier is None or earlier.status != SubmissionStatus.COMPLETED.value:
            return None
        if earlier.request_hash != request_hash or earlier.amo_user_id != token.amo_user_id:
            raise IdempotencyKeyReused()
        assert earlier.response_json is not None
        answer: dict[str, Any] = json.loads(earlier.response_json)
        return answer

    async def claim(
        self, token: UsableToken, user_id: uuid.UUID, key: str, request_hash: str
    ) -> tuple[CrmLeadSubmission, str]:
        """The submission of this key, held by a new owner id (created on first use)."""
        owner = secrets.token_hex(16)
        now = self._clock.now()
        for _ in range(2):
            try:
                async with self._db.write_transaction() as session:
                    await repository.delete_expired_submissions(session, user_id, now)
                    found = await repository.get_submission(session, user_id, key)
                    if found is None:
                        submission = CrmLeadSubmission(
                            user_id=user_id,
                            idempotency_key=key,
                            request_hash=request_hash,
                            status=SubmissionStatus.IN_PROGRESS.value,
                            lease_owner=owner,
                            lease_until=now + SUBMISSION_LEASE,
                            account_id=token.account_id,
                            amo_user_id=token.amo_user_id,
                            created_at=now,
                            updated_at=now,
                            expires_at=now + KEY_LIFETIME,
                        )
                        await repository.add_submission(session, submission)
                        return submission, owner
                    if found.request_hash != request_hash or (
                        found.account_id,
                        found.amo_user_id,
                    ) != (token.account_id, token.amo_user_id):
                        raise IdempotencyKeyReused()
                    if found.status == SubmissionStatus.COMPLETED.value:
                        return found, owner
                    taken = await repository.take_over_submission(
                        session,
                        found.id,
                        owner=owner,
                        now=now,
                        lease_until=now + SUBMISSION_LEASE,
                    )
                    if not taken:
                        wait = 2.0
                        if found.status == SubmissionStatus.FAILED.value and found.lease_until:
                            wait = max(wait, (found.lease_until - now).total_seconds())
                        raise IdempotencyInProgress(headers={"Retry-After": str(math.ceil(wait))})
                    found.lease_owner = owner
                    found.status = SubmissionStatus.IN_PROGRESS.value
                    return found, owner
            except IntegrityError:
                continue  # a concurrent first request inserted the row; read it again
        raise IdempotencyInProgress(headers={"Retry-After": "2"})

    async def record(self, submission: CrmLeadSubmission, owner: str, **values: Any) -> None:
        now = self._clock.now()
        async with self._db.transaction() as session:
            written = await repository.update_owned_submission(
                session,
                submission.id,
                owner,
                {**values, "updated_at": now, "lease_until": now + SUBMISSION_LEASE},
            )
        if not written:
            raise LostSubmission()
        for name, value in values.items():
            setattr(submission, name, value)

    async def complete(
        self, submission: CrmLeadSubmission, owner: str, answer: dict[str, Any]
    ) -> None:
        await self.record(
            submission,
            owner,
            status=SubmissionStatus.COMPLETED.value,
            failed_step=None,
            error_code=None,
            response_json=json.dumps(answer),
            lease_owner=None,
        )

    async def send_once(
        self,
        submission: CrmLeadSubmission,
        owner: str,
        step: str,
        send: Callable[[], Awaitable[int]],
        find_existing: Callable[[], Awaitable[int | None]],
    ) -> int:
        """Send one entity, unless an earlier attempt whose answer was lost created it."""
        if submission.attempted_step == step:
            existing = await find_existing()
            if existing is not None:
                log.info("crm_step_recovered", step=step)
                return existing
        await self.record(submission, owner, attempted_step=step)
        return await send()

    async def fail(
        self, submission: CrmLeadSubmission, owner: str, step: str, error: AmoCrmError
    ) -> None:
        """Release the submission; a write whose answer never came holds it a while longer."""
        code = to_app_error(error).code
        outcome = outcome_of(error)
        now = self._clock.now()
        async with self._db.transaction() as session:
            await repository.update_owned_submission(
                session,
                submission.id,
                owner,
                {
                    "status": SubmissionStatus.FAILED.value,
                    "failed_step": step,
                    "error_code": code,
                    "attempted_step": None if outcome is Outcome.REFUSED else step,
                    "lease_owner": None,
                    "lease_until": now + UNKNOWN_OUTCOME_SETTLE
                    if outcome is Outcome.NO_ANSWER
                    else None,
                    "updated_at": now,
                },
            )
        log.warning("crm_write_failed", step=step, error_code=code, outcome=outcome.value)
