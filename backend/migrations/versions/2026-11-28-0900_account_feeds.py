"""amoCRM account feeds: the webhook key and the events cursor of each account

Revision ID: 0004_account_feeds
Revises: 0003_refresh_retry
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_account_feeds"
down_revision: str | None = "0003_refresh_retry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "amocrm_account_feeds",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("events_cursor", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account_id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.add_column(
            sa.Column("amo_user_is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.drop_column("amo_user_is_admin")
    op.drop_table("amocrm_account_feeds")
