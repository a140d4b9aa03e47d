"""Floods: one person sending faster than `messages_per_minute` has the rest held, and no one else waits.

Each person's updates (messages, edits and button presses in their own chat) are counted in a minute that
starts with the first of them. Past the limit an update is held: left in the inbox, unprocessed, until the
minute is over, then processed like any other (and counted in the new minute). Nothing of a person's
overtakes an update of theirs that is held, so their messages are filed in the order they sent them. The
first update held in a flood is answered with one request to slow down; no other is, until everything
held has been processed. All of it is in the database, so a restart holds and releases the same.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.storage import flood as storage
from bot.storage.models import MessagePace

WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Held:
    until: datetime
    first: bool  # the first update held in this flood: the person is asked, once, to slow down


def admit(session: Session, user_id: int, update_id: int, per_minute: int, now: datetime) -> Held | None:
    """None: process the (claimed) update now. Held: it was put back in the inbox until `until`."""
    pace = storage.pace_of(session, user_id, now)
    waiting = storage.waiting_held(session, user_id) if pace.holding else []
    earlier = [until for held_id, until in waiting if held_id < update_id]
    if earlier:  # it waits with the ones before it, and comes after them
        return _hold(session, pace, update_id, min(earlier), first=False)
    if now >= pace.window_started_at + WINDOW:
        pace.window_started_at, pace.admitted = now, 0
    if pace.admitted < per_minute:
        pace.admitted += 1
        pace.holding = bool(waiting)
        session.add(pace)
        return None
    first = not waiting and not storage.was_held(session, update_id)
    return _hold(session, pace, update_id, pace.window_started_at + WINDOW, first)


def _hold(session: Session, pace: MessagePace, update_id: int, until: datetime, first: bool) -> Held:
    storage.hold_update(session, update_id, pace.telegram_user_id, until)
    pace.holding = True
    session.add(pace)
    return Held(until, first)
