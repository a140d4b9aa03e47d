"""Frozen evidence: bank versions, what was asked kept with each answer, confirmed partial credit,
declarations in the unit's own words, interim decisions

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.storage.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bankversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_loaded_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_code', 'sha256')
    )
    with op.batch_alter_table('bankversion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bankversion_unit_code'), ['unit_code'], unique=False)

    op.create_table('creditconfirmation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('target_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('source_unit', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mapping_group', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ),
    sa.ForeignKeyConstraint(['assessor_id'], ['assessor.id'], ),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enrolment_id', 'target_ref', 'answer_id')
    )
    with op.batch_alter_table('creditconfirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_creditconfirmation_enrolment_id'), ['enrolment_id'], unique=False)

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('bank_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_answer_bank_version', 'bankversion', ['bank_version_id'], ['id'])

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declaring_enrolment_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declaration_source', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='unit'))
        batch_op.add_column(sa.Column('complete_declaration', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('assessor_statement', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('assessor_statement')
        batch_op.drop_column('complete_declaration')
        batch_op.drop_column('declaration_source')

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('declaring_enrolment_id')

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_constraint('fk_answer_bank_version', type_='foreignkey')
        batch_op.drop_column('bank_version_id')
        batch_op.drop_column('asked')

    with op.batch_alter_table('creditconfirmation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_creditconfirmation_enrolment_id'))
    op.drop_table('creditconfirmation')

    with op.batch_alter_table('bankversion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bankversion_unit_code'))
    op.drop_table('bankversion')
