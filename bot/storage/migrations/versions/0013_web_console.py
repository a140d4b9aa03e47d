"""The assessor's web console: one-use sign-in links and sessions

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'weblogin',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['assessor_id'], ['assessor.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_weblogin_assessor_id'), 'weblogin', ['assessor_id'], unique=False)
    op.create_table(
        'websession',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('csrf_token', sa.String(), nullable=False),
        sa.Column('via', sa.String(), nullable=False),
        sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['assessor_id'], ['assessor.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_websession_assessor_id'), 'websession', ['assessor_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_websession_assessor_id'), table_name='websession')
    op.drop_table('websession')
    op.drop_index(op.f('ix_weblogin_assessor_id'), table_name='weblogin')
    op.drop_table('weblogin')
