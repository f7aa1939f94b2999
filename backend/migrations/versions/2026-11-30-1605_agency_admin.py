"""agency connection, reconnect requests, event actors

Revision ID: 0005_agency_admin
Revises: 0004_connect_ticket
Create Date: 2026-11-30 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_agency_admin'
down_revision: str | None = '0004_connect_ticket'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('amocrm_reconnect_requests',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_amocrm_reconnect_requests_requested_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_amocrm_reconnect_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_amocrm_reconnect_requests'))
    )
    op.create_table('amocrm_agency_connections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('account_domain', sa.String(length=253), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('connection_id', sa.Uuid(), nullable=True),
    sa.Column('amo_user_id', sa.BigInteger(), nullable=False),
    sa.Column('amo_user_name', sa.String(length=200), nullable=True),
    sa.Column('token_key_id', sa.String(length=32), nullable=True),
    sa.Column('token_enc', sa.Text(), nullable=True),
    sa.Column('token_last4', sa.String(length=4), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expiry_warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('set_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connection_id'], ['amocrm_connections.id'], name=op.f('fk_amocrm_agency_connections_connection_id_amocrm_connections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_amocrm_agency_connections_set_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amocrm_agency_connections')),
    sa.UniqueConstraint('account_id', name=op.f('uq_amocrm_agency_connections_account_id'))
    )
    with op.batch_alter_table('amocrm_connection_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_user_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_amocrm_connection_events_actor_user_id_users'), 'users', ['actor_user_id'], ['id'], ondelete='SET NULL')




def downgrade() -> None:
    
    with op.batch_alter_table('amocrm_connection_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_amocrm_connection_events_actor_user_id_users'), type_='foreignkey')
        batch_op.drop_column('actor_user_id')

    op.drop_table('amocrm_agency_connections')
    op.drop_table('amocrm_reconnect_requests')

