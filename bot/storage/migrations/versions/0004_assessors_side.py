"""The assessor's side: roles, staff invites, follow-up questions, sign-off, the audit trail

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.storage.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staffinvite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['assessor.id'], ),
    sa.ForeignKeyConstraint(['used_by_id'], ['assessor.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('auditevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('previous_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hash')
    )
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditevent_enrolment_id'), ['enrolment_id'], unique=False)

    op.create_table('assessorquestion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('answer_id', sa.Integer(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('asked_at', bot.storage.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reply_text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reply_attachment_id', sa.Integer(), nullable=True),
    sa.Column('reply_message_id', sa.BigInteger(), nullable=True),
    sa.Column('replied_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ),
    sa.ForeignKeyConstraint(['assessor_id'], ['assessor.id'], ),
    sa.ForeignKeyConstraint(['reply_attachment_id'], ['attachment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessorquestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessorquestion_answer_id'), ['answer_id'], unique=False)

    with op.batch_alter_table('assessor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default='assessor'))
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('awaiting', sa.JSON(), nullable=True))

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaited_question_id', sa.Integer(), nullable=True))

    with op.batch_alter_table('judgment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_attachment_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_judgment_feedback_attachment_id', 'attachment', ['feedback_attachment_id'], ['id'])

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_off_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_foreign_key('fk_submission_signed_off_by_id', 'assessor', ['signed_off_by_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('judgment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_judgment_feedback_attachment_id', type_='foreignkey')
        batch_op.drop_column('feedback_attachment_id')

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_constraint('fk_submission_signed_off_by_id', type_='foreignkey')
        batch_op.drop_column('outcome')
        batch_op.drop_column('signed_off_by_id')
        batch_op.drop_column('signed_off_at')

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('awaited_question_id')

    with op.batch_alter_table('assessor', schema=None) as batch_op:
        batch_op.drop_column('awaiting')
        batch_op.drop_column('chat_id')
        batch_op.drop_column('role')

    with op.batch_alter_table('assessorquestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessorquestion_answer_id'))

    op.drop_table('assessorquestion')
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditevent_enrolment_id'))

    op.drop_table('auditevent')
    op.drop_table('staffinvite')
