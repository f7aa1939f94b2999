"""Every query of the CRM feature."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from foryou.auth.models import User, UserStatus
from foryou.crm.models import CrmLeadSubmission, SubmissionStatus
from foryou.db import rowcount
from foryou.integrations.amocrm.models import AmoCrmConnection, ConnectionStatus


async def known_user_names(session: AsyncSession, account_id: int) -> dict[int, str]:
    """amoCRM user names our connections learnt for this account (no upstream call)."""
    result = await session.execute(
        select(AmoCrmConnection.amo_user_id, AmoCrmConnection.amo_user_name).where(
            AmoCrmConnection.account_id == account_id,
            AmoCrmConnection.amo_user_name.is_not(None),
        )
    )
    return {int(user_id): str(name) for user_id, name in result.all() if name}


async def touch_active(session: AsyncSession, connection_id: uuid.UUID, now: datetime) -> None:
    """Record that the broker of this connection used the CRM (not a change of the connection:
    its version and `updated_at` stay as they are)."""
    await session.execute(
        update(AmoCrmConnection)
        .where(AmoCrmConnection.id == connection_id)
        .values(last_active_at=now)
    )


async def recently_active(
    session: AsyncSession, since: datetime
) -> list[tuple[uuid.UUID, str, int, int, datetime]]:
    """(user id, name, account, amoCRM user, last activity) of active users with an active
    connection who used the CRM or connected since `since`, the latest first."""
    active_at = AmoCrmConnection.last_active_at
    result = await session.execute(
        select(
            User.id,
            User.name,
            AmoCrmConnection.account_id,
            AmoCrmConnection.amo_user_id,
            active_at,
        )
        .join(User, User.id == AmoCrmConnection.user_id)
        .where(
            AmoCrmConnection.status == ConnectionStatus.ACTIVE.value,
            User.status == UserStatus.ACTIVE.value,
            active_at >= since,
        )
        .order_by(active_at.desc())
    )
    return [
        (user_id, name, int(account_id), int(amo_user_id), at)
        for user_id, name, account_id, amo_user_id, at in result.all()
        if at is not None
    ]


async def get_submission(
    session: AsyncSession, user_id: uuid.UUID, key: str
) -> CrmLeadSubmission | None:
    result = await session.execute(
        select(CrmLeadSubmission)
        .where(CrmLeadSubmission.user_id == user_id, CrmLeadSubmission.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add_submission(session: AsyncSession, submission: CrmLeadSubmission) -> None:
    session.add(submission)
    await session.flush()


async def delete_expired_submissions(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        delete(CrmLeadSubmission).where(
            CrmLeadSubmission.user_id == user_id, CrmLeadSubmission.expires_at <= now
        )
    )


async def take_over_submission(
    session: AsyncSession,
    submission_id: uuid.UUID,
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
) -> bool:
    """Claim an unfinished submission nobody holds (no lease, or the lease ran out)."""
    result = await session.execute(
        update(CrmLeadSubmission)
        .where(
            CrmLeadSubmission.id == submission_id,
            CrmLeadSubmission.status != SubmissionStatus.COMPLETED.value,
            (CrmLeadSubmission.lease_until.is_(None)) | (CrmLeadSubmission.lease_until <= now),
        )
        .values(
            status=SubmissionStatus.IN_PROGRESS.value,
            lease_owner=owner,
            lease_until=lease_until,
            updated_at=now,
        )
    )
    return rowcount(result) == 1


async def update_owned_submission(
    session: AsyncSession, submission_id: uuid.UUID, owner: str, values: dict[str, Any]
) -> bool:
    """Write progress only while still holding the submission (compare-and-swap on owner)."""
    result = await session.execute(
        update(CrmLeadSubmission)
        .where(
            and_(
                CrmLeadSubmission.id == submission_id,
                CrmLeadSubmission.lease_owner == owner,
                CrmLeadSubmission.status == SubmissionStatus.IN_PROGRESS.value,
            )
        )
        .values(**values)
    )
    return rowcount(result) == 1
