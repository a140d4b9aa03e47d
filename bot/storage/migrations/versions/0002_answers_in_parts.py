"""Answers in parts (several messages, attachments), submissions, and the candidate's sitting

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.storage.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_DATETIME = bot.storage.models.UTCDateTime(timezone=True)
TEXT = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("file_id", TEXT, nullable=False),
        sa.Column("file_unique_id", TEXT, nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("mime_type", TEXT, nullable=True),
        sa.Column("file_name", TEXT, nullable=True),
        sa.Column("sha256", TEXT, nullable=True),
        sa.Column("fetched_at", UTC_DATETIME, nullable=True),
        sa.Column("fetch_attempts", sa.Integer(), nullable=False),
        sa.Column("fetch_error", TEXT, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attachment_file_unique_id", "attachment", ["file_unique_id"])
    op.create_index("ix_attachment_sha256", "attachment", ["sha256"])

    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("declaration", TEXT, nullable=False),
        sa.Column("declared_by", TEXT, nullable=False),
        sa.Column("declared_by_telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("declared_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["enrolment_id"], ["enrolment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_submission_enrolment_id", "submission", ["enrolment_id"])

    op.create_table(
        "answerpart",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", TEXT, nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("in_follow_up", sa.Boolean(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=True),
        sa.Column("sent_at", UTC_DATETIME, nullable=False),
        sa.Column("edited_at", UTC_DATETIME, nullable=True),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["answer.id"]),
        sa.ForeignKeyConstraint(["attachment_id"], ["attachment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("answer_id", "seq"),
    )
    op.create_index("ix_answerpart_answer_id", "answerpart", ["answer_id"])
    op.create_index("ix_answerpart_update_id", "answerpart", ["update_id"])

    # Each answer so far was one message: it becomes that answer's only part, and is complete.
    op.execute(
        "INSERT INTO answerpart (answer_id, seq, text, in_follow_up, chat_id, message_id, update_id, sent_at, recorded_at)"
        " SELECT id, 1, text, false, chat_id, message_id, update_id, sent_at, recorded_at FROM answer"
    )
    with op.batch_alter_table("answer") as batch_op:
        batch_op.add_column(sa.Column("status", TEXT, nullable=False, server_default="complete"))
        batch_op.add_column(sa.Column("probe", TEXT, nullable=True))
        batch_op.add_column(sa.Column("probed_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("started_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("completed_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
    op.execute("UPDATE answer SET started_at = recorded_at, completed_at = recorded_at")
    with op.batch_alter_table("answer") as batch_op:
        batch_op.alter_column("started_at", existing_type=UTC_DATETIME, nullable=False)
        batch_op.alter_column("status", existing_type=TEXT, server_default=None)
        batch_op.create_index("ix_answer_submission_id", ["submission_id"])
        batch_op.create_foreign_key("fk_answer_submission_id", "submission", ["submission_id"], ["id"])
        for column in ("recorded_at", "text", "message_id", "chat_id", "sent_at", "update_id"):
            batch_op.drop_column(column)

    with op.batch_alter_table("candidate") as batch_op:
        batch_op.add_column(sa.Column("active_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reminders_paused", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("candidate") as batch_op:
        batch_op.drop_column("reminders_paused")
        batch_op.drop_column("active_run_id")
    with op.batch_alter_table("answer") as batch_op:
        batch_op.add_column(sa.Column("text", TEXT, nullable=True))
        batch_op.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("update_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sent_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("recorded_at", UTC_DATETIME, nullable=True))
    # An answer keeps its first part's message; later parts and attachments do not fit the old shape.
    for column in ("text", "chat_id", "message_id", "update_id", "sent_at", "recorded_at"):
        op.execute(
            f"UPDATE answer SET {column} = (SELECT p.{column} FROM answerpart p"
            " WHERE p.answer_id = answer.id ORDER BY p.seq LIMIT 1)"
        )
    with op.batch_alter_table("answer") as batch_op:
        batch_op.drop_constraint("fk_answer_submission_id", type_="foreignkey")
        batch_op.drop_index("ix_answer_submission_id")
        for column in ("submission_id", "completed_at", "started_at", "probed_at", "probe", "status"):
            batch_op.drop_column(column)
    op.drop_table("answerpart")
    op.drop_table("submission")
    op.drop_table("attachment")
