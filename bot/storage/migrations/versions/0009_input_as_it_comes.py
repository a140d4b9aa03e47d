"""Input as it really comes: a forwarded message keeps its origin, a cleaned text its mark, a file that
can never be fetched the time it was given up

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forwarded_from', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('text_cleaned', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Before, a file was given up after three failed attempts of any kind; those are tried again, and
    # only a permanent refusal gives one up now.
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fetch_failed_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('fetch_failed_at')
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.drop_column('text_cleaned')
        batch_op.drop_column('forwarded_from')
