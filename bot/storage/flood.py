"""Storage for the flood rule (bot/domain/flood.py): each person's pace, and their updates held in the inbox."""

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.storage.models import InboundUpdate, MessagePace


def pace_of(session: Session, user_id: int, now: datetime) -> MessagePace:
    return session.get(MessagePace, user_id) or MessagePace(telegram_user_id=user_id, window_started_at=now)


def waiting_held(session: Session, user_id: int) -> list[tuple[int, datetime]]:
    """(update id, held until) of the person's held updates still waiting (the one being processed is not)."""
    rows = session.exec(
        select(InboundUpdate.update_id, InboundUpdate.held_until)
        .where(col(InboundUpdate.held_for) == user_id, col(InboundUpdate.processed_at).is_(None))
    )
    return [(update_id, until) for update_id, until in rows if until is not None]  # a held update has its time


def was_held(session: Session, update_id: int) -> bool:
    return session.exec(select(InboundUpdate.held_until).where(InboundUpdate.update_id == update_id)).one() is not None


def hold_update(session: Session, update_id: int, user_id: int, until: datetime) -> None:
    """Put a claimed update back in the inbox, to be processed once `until` has come."""
    session.execute(
        update(InboundUpdate)
        .where(col(InboundUpdate.update_id) == update_id)
        .values(processed_at=None, held_until=until, held_for=user_id)
    )


def next_release(session: Session, now: datetime) -> datetime | None:
    """When the earliest held update still to come is due; None if none is."""
    return session.exec(
        select(func.min(InboundUpdate.held_until))
        .where(col(InboundUpdate.processed_at).is_(None), col(InboundUpdate.held_until) > now)
    ).one()
