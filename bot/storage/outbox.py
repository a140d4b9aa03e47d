"""The outbox of Bot API calls: queued in the transaction of the change they report, claimed and made by a sender.

Each chat's calls go out in the order they were queued: only the oldest pending call of a chat (its head) can be
claimed, so a call waiting to be retried holds back the ones after it in that chat and no other chat's. A claim
is a lease (`claimed_by`, `claimed_until`): a sender that dies leaves its claims to expire, and on PostgreSQL the
claim query skips rows another sender has locked, so two senders never make the same call at once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, update
from sqlmodel import Session, col, select

from bot.storage.ids import stored_id
from bot.storage.models import OutboundMessage

PENDING, SENT, FAILED, UNREACHABLE = "pending", "sent", "failed", "unreachable"


@dataclass(frozen=True)
class OutboundCall:
    """A queued Bot API call, as the sender needs it."""

    id: int
    chat_id: int
    method: str
    params: dict
    attempts: int = 0
    paced: bool = False


def queue_call(session: Session, chat_id: int, method: str, params: dict, paced: bool = False) -> OutboundCall:
    """Queue a call; `paced` for bulk sends (reminders, digests), kept under Telegram's broadcast limits."""
    row = OutboundMessage(chat_id=chat_id, method=method, params=params, paced=paced)
    session.add(row)
    session.flush()
    return OutboundCall(stored_id(row), chat_id, method, params, paced=paced)


def _heads():
    """The oldest pending call of each chat."""
    return select(func.min(OutboundMessage.id)).where(OutboundMessage.status == PENDING).group_by(OutboundMessage.chat_id)


def claim_due(session: Session, sender: str, now: datetime, lease: timedelta, limit: int) -> list[OutboundCall]:
    """Claim up to `limit` calls that are due, at most one per chat (its head), oldest first."""
    rows = session.exec(
        select(OutboundMessage)
        .where(
            # status again here: PostgreSQL rechecks these conditions on a row another sender changed meanwhile
            # (the heads subquery is not rechecked), so a call just sent is never claimed again
            OutboundMessage.status == PENDING,
            col(OutboundMessage.id).in_(_heads()),
            or_(col(OutboundMessage.next_attempt_at).is_(None), col(OutboundMessage.next_attempt_at) <= now),
            or_(col(OutboundMessage.claimed_until).is_(None), col(OutboundMessage.claimed_until) < now),
        )
        .order_by(col(OutboundMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
    ).all()
    for row in rows:
        row.claimed_by, row.claimed_until = sender, now + lease
        session.add(row)
    return [OutboundCall(stored_id(r), r.chat_id, r.method, dict(r.params), r.attempts, r.paced) for r in rows]


def next_due_at(session: Session) -> datetime | None:
    """When the earliest pending head that waits for a retry is due (None: none waits)."""
    return session.exec(
        select(func.min(col(OutboundMessage.next_attempt_at))).where(col(OutboundMessage.id).in_(_heads()))
    ).one()


def _mine(call_id: int, sender: str):
    return update(OutboundMessage).where(col(OutboundMessage.id) == call_id, col(OutboundMessage.claimed_by) == sender)


def mark_sent(session: Session, call_id: int, sender: str, telegram_message_id: int | None, now: datetime) -> None:
    session.execute(
        _mine(call_id, sender).values(
            status=SENT, sent_at=now, telegram_message_id=telegram_message_id, attempts=OutboundMessage.attempts + 1,
            claimed_by=None, claimed_until=None,
        )
    )


def retry_later(session: Session, call_id: int, sender: str, error: str, at: datetime) -> None:
    session.execute(
        _mine(call_id, sender).values(
            next_attempt_at=at, last_error=error[:2000], attempts=OutboundMessage.attempts + 1,
            claimed_by=None, claimed_until=None,
        )
    )


def close_unsent(session: Session, call_id: int, sender: str, status: str, error: str, now: datetime) -> None:
    """Give a call up for good (failed, or unreachable): last_error says why."""
    session.execute(
        _mine(call_id, sender).values(
            status=status, sent_at=now, last_error=error[:2000], attempts=OutboundMessage.attempts + 1,
            claimed_by=None, claimed_until=None,
        )
    )


def release_claims(session: Session) -> int:
    """Drop every claim: the one active sender starting up knows that no other sender holds any."""
    result = session.execute(
        update(OutboundMessage)
        .where(col(OutboundMessage.status) == PENDING, col(OutboundMessage.claimed_by).is_not(None))
        .values(claimed_by=None, claimed_until=None)
    )
    return cast("CursorResult[Any]", result).rowcount  # an UPDATE's result is a CursorResult


def pending_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.status == PENDING)).one()
