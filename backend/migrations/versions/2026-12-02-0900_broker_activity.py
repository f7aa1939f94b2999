"""When each broker last used the CRM through the app: the worker warms the caches of brokers
who worked within the last day before they open the app again

Revision ID: 0007_broker_activity
Revises: 0006_account_feeds
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_broker_activity"
down_revision: str | None = "0006_account_feeds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.add_column(sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.drop_column("last_active_at")
