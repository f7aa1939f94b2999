"""New-lead submissions: the idempotency key of each create and how far it got in amoCRM."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from foryou.db import Base, UTCDateTime, new_id


class SubmissionStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    COMPLETED = "completed"


class CrmLeadSubmission(Base):
    """One `POST /crm/leads` per (user, Idempotency-Key).

    Each amoCRM entity id is written the moment amoCRM returns it, so a retry resumes after
    the last step that is known to have succeeded instead of creating it again.
    """

    __tablename__ = "crm_lead_submissions"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    idempotency_key: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the normalised request: the same key with another body is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    # Whoever works on the submission holds it until `lease_until`; a crashed worker's
    # submission can be taken over after that.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    account_id: Mapped[int] = mapped_column(BigInteger)
    amo_user_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[int | None] = mapped_column(BigInteger)
    lead_id: Mapped[int | None] = mapped_column(BigInteger)
    note_id: Mapped[int | None] = mapped_column(BigInteger)
    task_id: Mapped[int | None] = mapped_column(BigInteger)
    # The step whose POST was sent but whose answer never arrived: checked before resending.
    attempted_step: Mapped[str | None] = mapped_column(String(20))
    failed_step: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(60))
    response_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
