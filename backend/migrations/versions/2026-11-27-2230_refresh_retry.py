"""refresh backoff after a failed refresh

Revision ID: 0003_refresh_retry
Revises: 0002_crm
Create Date: 2026-11-27 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_refresh_retry"
down_revision: str | None = "0002_crm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.add_column(
            sa.Column("refresh_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("refresh_retry_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.drop_column("refresh_retry_at")
        batch.drop_column("refresh_failures")
