"""An outbox that delivers: each call has a status, a time for its next attempt and a sender's lease

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outboundmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('paced', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('next_attempt_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outboundmessage_status'), ['status'], unique=False)
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outbound_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_reminder_outbound_id', 'outboundmessage', ['outbound_id'], ['id'])
    outbox = sa.table('outboundmessage', sa.column('sent_at'), sa.column('last_error'), sa.column('status'))
    connection = op.get_bind()
    # before: a closed call had sent_at set, and a last_error when it was given up unsent
    connection.execute(outbox.update().where(outbox.c.sent_at.is_not(None), outbox.c.last_error.is_(None)).values(status='sent'))
    connection.execute(outbox.update().where(outbox.c.sent_at.is_not(None), outbox.c.last_error.is_not(None)).values(status='failed'))


def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reminder_outbound_id', type_='foreignkey')
        batch_op.drop_column('outbound_id')
    with op.batch_alter_table('outboundmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outboundmessage_status'))
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('paced')
        batch_op.drop_column('status')
