"""Held against abuse: invites expire and can be revoked; a flood's updates are held, and each person's
pace is kept

Revision ID: 0010
Revises: 0009
"""

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

INVITE_TABLES = ('invite', 'staffinvite')
# Codes made before invites expired get the default lifetime, counted from when they were made.
VALID_FOR = timedelta(days=30)


def upgrade() -> None:
    connection = op.get_bind()
    for name in INVITE_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('expires_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column('revoked_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
        table = sa.table(name, sa.column('id'), sa.column('created_at', bot.storage.models.UTCDateTime(timezone=True)),
                         sa.column('expires_at', bot.storage.models.UTCDateTime(timezone=True)))
        for row in connection.execute(sa.select(table.c.id, table.c.created_at)).all():
            connection.execute(table.update().where(table.c.id == row.id).values(expires_at=row.created_at + VALID_FOR))
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column('expires_at', existing_type=bot.storage.models.UTCDateTime(timezone=True), nullable=False)
    with op.batch_alter_table('inboundupdate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_until', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('held_for', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_inboundupdate_held_for'), ['held_for'], unique=False)
    op.create_table(
        'messagepace',
        sa.Column('telegram_user_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('window_started_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('admitted', sa.Integer(), nullable=False),
        sa.Column('holding', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('telegram_user_id'),
    )


def downgrade() -> None:
    op.drop_table('messagepace')
    with op.batch_alter_table('inboundupdate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inboundupdate_held_for'))
        batch_op.drop_column('held_for')
        batch_op.drop_column('held_until')
    for name in INVITE_TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('revoked_at')
            batch_op.drop_column('expires_at')
