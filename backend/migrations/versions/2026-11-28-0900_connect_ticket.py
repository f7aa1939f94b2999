"""pending connect results redeemed by ticket; one ForYou user per amoCRM user

Revision ID: 0004_connect_ticket
Revises: 0003_refresh_retry
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_connect_ticket"
down_revision: str | None = "0003_refresh_retry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKED = sa.text("status IN ('active', 'reauth_required')")


def upgrade() -> None:
    with op.batch_alter_table("amocrm_oauth_flows") as batch:
        batch.add_column(sa.Column("ticket_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("pending_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pending_key_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("pending_access_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("pending_refresh_enc", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("pending_access_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("pending_account_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("pending_account_domain", sa.String(length=253), nullable=True))
        batch.add_column(sa.Column("pending_base_domain", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("pending_amo_user_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("pending_amo_user_name", sa.String(length=200), nullable=True))
        batch.create_unique_constraint("uq_amocrm_oauth_flows_ticket_hash", ["ticket_hash"])
        batch.create_index("ix_amocrm_oauth_flows_pending_until", ["pending_until"], unique=False)
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.create_index(
            "ux_amocrm_connections_linked_amo_user",
            ["account_id", "amo_user_id"],
            unique=True,
            sqlite_where=_LINKED,
            postgresql_where=_LINKED,
        )


def downgrade() -> None:
    with op.batch_alter_table("amocrm_connections") as batch:
        batch.drop_index("ux_amocrm_connections_linked_amo_user")
    with op.batch_alter_table("amocrm_oauth_flows") as batch:
        batch.drop_index("ix_amocrm_oauth_flows_pending_until")
        batch.drop_constraint("uq_amocrm_oauth_flows_ticket_hash", type_="unique")
        for column in (
            "pending_amo_user_name",
            "pending_amo_user_id",
            "pending_base_domain",
            "pending_account_domain",
            "pending_account_id",
            "pending_access_expires_at",
            "pending_refresh_enc",
            "pending_access_enc",
            "pending_key_id",
            "pending_until",
            "ticket_hash",
        ):
            batch.drop_column(column)
