"""The probe ladder: every probe an answer was asked, and which probe each message replies to

Revision ID: 0007
Revises: 0006
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('probes', sa.JSON(), nullable=True))
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('probe_number', sa.Integer(), nullable=True))
    connection = op.get_bind()
    answer = sa.table('answer', sa.column('id'), sa.column('probe'), sa.column('probed_at'), sa.column('probes', sa.JSON()))
    for row in connection.execute(sa.select(answer.c.id, answer.c.probe, answer.c.probed_at)).all():
        probes = [] if row.probe is None else [
            {"text": row.probe, "aims": [], "asked_at": _iso(row.probed_at)}
        ]
        connection.execute(answer.update().where(answer.c.id == row.id).values(probes=probes))
    part = sa.table('answerpart', sa.column('in_follow_up'), sa.column('probe_number'))
    connection.execute(part.update().where(part.c.in_follow_up.is_(True)).values(probe_number=1))
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.alter_column('probes', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('probe')
        batch_op.drop_column('probed_at')
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.drop_column('in_follow_up')


def downgrade() -> None:
    import bot.storage.models

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('probe', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('probed_at', bot.storage.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_follow_up', sa.Boolean(), nullable=False, server_default=sa.false()))
    connection = op.get_bind()
    answer = sa.table('answer', sa.column('id'), sa.column('probe'), sa.column('probes', sa.JSON()))
    for row in connection.execute(sa.select(answer.c.id, answer.c.probes)).all():
        probes = row.probes if isinstance(row.probes, list) else json.loads(row.probes or "[]")
        if probes:  # the schema before kept one probe: the first
            connection.execute(answer.update().where(answer.c.id == row.id).values(probe=probes[0]["text"]))
    part = sa.table('answerpart', sa.column('in_follow_up'), sa.column('probe_number'))
    connection.execute(part.update().where(part.c.probe_number.is_not(None)).values(in_follow_up=True))
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('probes')
    with op.batch_alter_table('answerpart', schema=None) as batch_op:
        batch_op.drop_column('probe_number')


def _iso(value) -> str | None:
    """A stored time as ISO 8601 in UTC (SQLite hands it back as naive text, PostgreSQL as a datetime)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
