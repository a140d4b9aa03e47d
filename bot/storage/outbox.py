"""The outbox of Bot API calls: queued in the transaction of the change they report, claimed and made by a sender.

Each chat's calls go out in the order they were queued: only the oldest pending call of a chat (its head) can be
claimed, so a call waiting to be retried holds back the ones after it in that chat and no other chat's. A claim
is a lease (`claimed_by`, `claimed_until`): a sender that dies leaves its claims to expire, and on PostgreSQL the
claim query skips rows another sender has locked, so two senders never make the same call at once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, bindparam, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from bot.storage.ids import table_of
from bot.storage.models import OutboundMessage, utcnow

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
    queued = session.connection().execute(
        _QUEUE,
        {"chat_id": chat_id, "method": method, "params": params, "created_at": utcnow(), "status": PENDING,
         "paced": paced, "attempts": 0},
    )
    return OutboundCall(queued.scalar_one(), chat_id, method, params, paced=paced)


_outbox = table_of(OutboundMessage)
# The sender's statements run for every call, so they are built once, as plain Core statements on the connection:
# an ORM-enabled UPDATE costs about ten times as much in Python (its bulk-update bookkeeping), a rebuilt query
# twice as much.
_HEADS = (  # the oldest pending call of each chat
    core_select(func.min(_outbox.c.id)).where(_outbox.c.status == PENDING).group_by(_outbox.c.chat_id).scalar_subquery()
)
_DUE = (
    core_select(_outbox.c.id, _outbox.c.chat_id, _outbox.c.method, _outbox.c.params, _outbox.c.attempts, _outbox.c.paced)
    .where(
        # status again here: PostgreSQL rechecks these conditions on a row another sender changed meanwhile
        # (the heads subquery is not rechecked), so a call just sent is never claimed again
        _outbox.c.status == PENDING,
        _outbox.c.id.in_(_HEADS),
        or_(_outbox.c.next_attempt_at.is_(None), _outbox.c.next_attempt_at <= bindparam("now")),
        or_(_outbox.c.claimed_until.is_(None), _outbox.c.claimed_until < bindparam("now")),
    )
    .order_by(_outbox.c.id)
    .limit(bindparam("room", type_=Integer))
    .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
)
_QUEUE = _outbox.insert().returning(_outbox.c.id)
_CLAIM = (
    _outbox.update()
    .where(_outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(claimed_by=bindparam("sender"), claimed_until=bindparam("until"))
)
_NEXT_DUE = core_select(func.min(_outbox.c.next_attempt_at)).where(_outbox.c.id.in_(_HEADS))


def _closing(**values):
    """An UPDATE of a call this sender claims (a claim that expired and was taken by another changes nothing),
    ending its claim and counting the attempt."""
    return (
        _outbox.update()
        .where(_outbox.c.id == bindparam("call_id"), _outbox.c.claimed_by == bindparam("sender"))
        .values(attempts=_outbox.c.attempts + 1, claimed_by=None, claimed_until=None, **values)
    )


_SENT = _closing(
    status=SENT, sent_at=bindparam("now"), telegram_message_id=bindparam("telegram_message_id")
)
_RETRY = _closing(next_attempt_at=bindparam("at"), last_error=bindparam("error"))
_UNSENT = _closing(status=bindparam("status"), sent_at=bindparam("now"), last_error=bindparam("error"))


def claim_due(session: Session, sender: str, now: datetime, lease: timedelta, limit: int) -> list[OutboundCall]:
    """Claim up to `limit` calls that are due, at most one per chat (its head), oldest first."""
    connection = session.connection()
    rows = connection.execute(_DUE, {"now": now, "room": limit}).all()
    if rows:
        connection.execute(_CLAIM, {"ids": [row.id for row in rows], "sender": sender, "until": now + lease})
    return [OutboundCall(r.id, r.chat_id, r.method, dict(r.params), r.attempts, r.paced) for r in rows]


def next_due_at(session: Session) -> datetime | None:
    """When the earliest pending head that waits for a retry is due (None: none waits)."""
    return session.connection().execute(_NEXT_DUE).scalar()


def mark_sent(session: Session, call_id: int, sender: str, telegram_message_id: int | None, now: datetime) -> None:
    session.connection().execute(
        _SENT, {"call_id": call_id, "sender": sender, "now": now, "telegram_message_id": telegram_message_id}
    )


def retry_later(session: Session, call_id: int, sender: str, error: str, at: datetime) -> None:
    session.connection().execute(_RETRY, {"call_id": call_id, "sender": sender, "at": at, "error": error[:2000]})


def close_unsent(session: Session, call_id: int, sender: str, status: str, error: str, now: datetime) -> None:
    """Give a call up for good (failed, or unreachable): last_error says why."""
    session.connection().execute(
        _UNSENT, {"call_id": call_id, "sender": sender, "status": status, "now": now, "error": error[:2000]}
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
