"""The durable inbox of Telegram updates (the outbox of Bot API calls is bot/storage/outbox.py)."""

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import bindparam, func, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.storage.ids import stored, table_of
from bot.storage.models import InboundUpdate


def store_updates(session: Session, raw_updates: Sequence[dict]) -> None:
    """Keep each update once, whatever number of times Telegram delivers it."""
    if not raw_updates:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    rows = [{"update_id": raw["update_id"], "payload": raw, "attempts": 0} for raw in raw_updates]
    session.execute(insert(InboundUpdate).values(rows).on_conflict_do_nothing(index_elements=["update_id"]))


def latest_update_id(session: Session) -> int | None:
    return session.exec(select(func.max(InboundUpdate.update_id))).one()


def pending_updates(session: Session, now: datetime, limit: int = 100) -> list[tuple[int, dict]]:
    """Unprocessed updates in order, each with its payload (so processing one need not read it again), but for
    a flood's held until their time (bot/domain/flood.py)."""
    return [
        (update_id, cast(dict, payload))  # sqlmodel types a JSON column selected with another as Mapping
        for update_id, payload in session.exec(
            select(InboundUpdate.update_id, InboundUpdate.payload)
            .where(col(InboundUpdate.processed_at).is_(None))
            .where(or_(col(InboundUpdate.held_until).is_(None), col(InboundUpdate.held_until) <= now))
            .order_by(col(InboundUpdate.update_id))
            .limit(limit)
        )
    ]


_inbox = table_of(InboundUpdate)
# Built once: a plain Core statement on the connection, without the ORM's bulk-update bookkeeping (this runs
# once an update).
_CLAIM = (
    _inbox.update()
    .where(_inbox.c.update_id == bindparam("claimed_id"), _inbox.c.processed_at.is_(None))
    .values(processed_at=bindparam("claimed_at", type_=_inbox.c.processed_at.type))
)


def claim(session: Session, update_id: int, now: datetime) -> bool:
    """Mark an update processed within the caller's transaction; False if it already was.

    The conditional UPDATE makes a second processor wait for, then skip, an update the first one holds.
    """
    return session.connection().execute(_CLAIM, {"claimed_id": update_id, "claimed_at": now}).rowcount == 1


def record_failure(session: Session, update_id: int, error: str, now: datetime, give_up_after: int) -> bool:
    """Count a failed attempt; after `give_up_after` attempts the update is closed. True when it was."""
    row = stored(session, InboundUpdate, update_id)
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= give_up_after:
        row.processed_at = now
    session.add(row)
    return row.processed_at is not None
