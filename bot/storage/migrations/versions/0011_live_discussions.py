"""Live professional discussions: the plan and its state, and who said each part, with the criteria referenced
at it

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'discussion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('planned_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('answer_id', sa.Integer(), nullable=True),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id']),
        sa.ForeignKeyConstraint(['assessor_id'], ['assessor.id']),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('enrolment_id', 'number'),
    )
    with op.batch_alter_table('discussion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discussion_assessor_id'), ['assessor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discussion_status'), ['status'], unique=False)
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author', sa.String(), nullable=False, server_default='candidate'))
        batch_op.add_column(sa.Column('private', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('referenced', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(), nullable=False, server_default='unit'))
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discussion_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_reminder_discussion_id', 'discussion', ['discussion_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_constraint('fk_reminder_discussion_id', type_='foreignkey')
        batch_op.drop_column('discussion_id')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.drop_column('referenced')
        batch_op.drop_column('private')
        batch_op.drop_column('author')
    op.drop_table('discussion')
