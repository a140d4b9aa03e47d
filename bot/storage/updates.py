"""The durable inbox of Telegram updates (the outbox of Bot API calls is bot/storage/outbox.py)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

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


def pending_update_ids(session: Session, limit: int = 100) -> list[int]:
    return list(
        session.exec(
            select(InboundUpdate.update_id)
            .where(InboundUpdate.processed_at.is_(None))
            .order_by(InboundUpdate.update_id)
            .limit(limit)
        )
    )


def claim_update(session: Session, update_id: int, now: datetime) -> dict | None:
    """Mark an update processed within the caller's transaction; None if it already was.

    The conditional UPDATE makes a second processor wait for, then skip, an update the first one holds.
    """
    claimed = session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.update_id == update_id, InboundUpdate.processed_at.is_(None))
        .values(processed_at=now)
    )
    if claimed.rowcount != 1:
        return None
    return session.exec(select(InboundUpdate.payload).where(InboundUpdate.update_id == update_id)).one()


def record_failure(session: Session, update_id: int, error: str, now: datetime, give_up_after: int) -> bool:
    """Count a failed attempt; after `give_up_after` attempts the update is closed. True when it was."""
    row = session.get(InboundUpdate, update_id)
    row.attempts += 1
    row.last_error = error[:2000]
    if row.attempts >= give_up_after:
        row.processed_at = now
    session.add(row)
    return row.processed_at is not None
