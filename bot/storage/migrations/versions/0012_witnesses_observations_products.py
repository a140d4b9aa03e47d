"""Witness testimony, direct observation and products of work

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'witness',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('named_by', sa.String(), nullable=False),
        sa.Column('named_by_telegram_id', sa.BigInteger(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('job_role', sa.String(), nullable=False),
        sa.Column('relationship', sa.String(), nullable=False),
        sa.Column('contact', sa.String(), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('code', sa.String(), nullable=True),
        sa.Column('code_expires_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
        sa.Column('telegram_name', sa.String(), nullable=True),
        sa.Column('answer_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id']),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('enrolment_id', 'number'),
    )
    with op.batch_alter_table('witness', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_witness_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_witness_named_by_telegram_id'), ['named_by_telegram_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_witness_status'), ['status'], unique=False)
    op.create_table(
        'observation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('assessor_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('place', sa.String(), nullable=True),
        sa.Column('observed_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('countersigned_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id']),
        sa.ForeignKeyConstraint(['assessor_id'], ['assessor.id']),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('enrolment_id', 'number'),
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observation_assessor_id'), ['assessor_id'], unique=False)
    op.create_table(
        'product',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enrolment_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('criteria', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=True),
        sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id']),
        sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('enrolment_id', 'number'),
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_enrolment_id'), ['enrolment_id'], unique=False)


def downgrade() -> None:
    op.drop_table('product')
    op.drop_table('observation')
    op.drop_table('witness')
