"""Which reminders are due, computed from the database alone: a restart loses nothing.

Every reminder has a key that names exactly one nudge (this enrolment, this deadline, this many days
before). A reminder is due when its moment has passed, the candidate is outside their quiet hours,
has not paused reminders, can be reached, and the unit is not done; and no reminder with its key
exists yet. Whoever records the key first queues it for sending, in the same transaction (see `claim`).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.storage.models import Assessor, Candidate, Discussion, Enrolment, Reminder, Submission
from bot.storage.repository import Repository

# Units in these states need nothing from the candidate now.
DONE_STATUSES = ("submitted", "signed_off")
MERGED = "idle_merged"  # an idle reminder folded into a deadline reminder sent at the same time
KEY_CHUNK = 5000


@dataclass(frozen=True)
class ReminderRules:
    days_before: tuple[int, ...] = (14, 7, 3, 1)
    idle_days: int = 5
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(8, 0)
    digest_at: time = time(8, 0)
    timezone: str = "Europe/London"
    discussion_lead: timedelta = timedelta(minutes=60)  # how long before a planned discussion both are reminded

    @classmethod
    def from_settings(cls, settings) -> "ReminderRules":
        quiet_start = quiet_end = None
        if settings.quiet_hours:
            start, end = settings.quiet_hours.split("-")
            quiet_start, quiet_end = time.fromisoformat(start), time.fromisoformat(end)
        return cls(
            days_before=tuple(sorted(set(settings.reminder_days_before), reverse=True)),
            idle_days=settings.reminder_idle_days,
            quiet_start=quiet_start,
            quiet_end=quiet_end,
            digest_at=time.fromisoformat(settings.digest_time),
            timezone=settings.timezone,
            discussion_lead=timedelta(minutes=settings.discussion_reminder_minutes),
        )

    def centre_date(self, now: datetime) -> date:
        return now.astimezone(_zone(self.timezone)).date()

    def quiet(self, local: datetime) -> bool:
        if self.quiet_start is None or self.quiet_end is None:  # both are set, or neither
            return False
        now = local.time()
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= now < self.quiet_end
        return now >= self.quiet_start or now < self.quiet_end  # over midnight

    def deadline_step(self, days_left: int) -> int | None:
        """The nearest "N days before" the candidate has reached (None before the first, or after the deadline)."""
        return self._steps.get(days_left)

    @cached_property
    def _steps(self) -> dict[int, int]:
        return {left: min(d for d in self.days_before if left <= d) for left in range(max(self.days_before, default=0) + 1)}


@dataclass(frozen=True)
class DueReminder:
    key: str
    kind: str  # deadline, idle, digest
    chat_id: int
    candidate_id: int | None = None
    assessor_id: int | None = None
    enrolment_id: int | None = None
    discussion_id: int | None = None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def find_due(session: Session, rules: ReminderRules, now: datetime) -> list[DueReminder]:
    wanted = _candidate_reminders(session, rules, now) + _digests(session, rules, now) + _discussions(session, rules, now)
    sent = _existing_keys(session, [r.key for r in wanted])
    due = [r for r in wanted if r.key not in sent]
    # A deadline nudge says what is left: an idle nudge due beside it is recorded, not sent.
    with_deadline = {r.enrolment_id for r in due if r.kind == "deadline"}
    return [
        DueReminder(r.key, MERGED, r.chat_id, r.candidate_id, r.assessor_id, r.enrolment_id)
        if r.kind == "idle" and r.enrolment_id in with_deadline
        else r
        for r in due
    ]


def _candidate_reminders(session: Session, rules: ReminderRules, now: datetime) -> list[DueReminder]:
    rows = session.execute(
        select(
            col(Enrolment.id),
            col(Enrolment.deadline),
            func.coalesce(col(Enrolment.last_activity_at), col(Enrolment.created_at)),
            col(Candidate.id),
            col(Candidate.chat_id),
            col(Candidate.timezone),
        )
        .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
        .where(
            col(Enrolment.status).not_in(DONE_STATUSES),
            col(Candidate.reminders_paused).is_(False),
            col(Candidate.unreachable_at).is_(None),
        )
    )
    due = []
    idle_for = timedelta(days=rules.idle_days)
    today: dict[str | None, date | None] = {}  # per time zone: the local date, or None in quiet hours
    for enrolment_id, deadline, last, candidate_id, chat_id, zone in rows:
        if zone not in today:
            local = now.astimezone(_zone(zone or rules.timezone))
            today[zone] = None if rules.quiet(local) else local.date()
        local_date = today[zone]
        if local_date is None:
            continue
        step = rules.deadline_step((deadline - local_date).days)
        if step is not None:
            key = f"deadline:{enrolment_id}:{deadline.isoformat()}:{step}"
            due.append(DueReminder(key, "deadline", chat_id, candidate_id, None, enrolment_id))
        last = _utc(last)
        if now - last >= idle_for:
            key = f"idle:{enrolment_id}:{last.isoformat(timespec='seconds')}"
            due.append(DueReminder(key, "idle", chat_id, candidate_id, None, enrolment_id))
    return due


def _digests(session: Session, rules: ReminderRules, now: datetime) -> list[DueReminder]:
    """One digest a day for each assessor with work waiting or candidates at risk."""
    local = now.astimezone(_zone(rules.timezone))
    if local.time() < rules.digest_at:
        return []
    waiting = set(
        session.execute(
            select(col(Enrolment.assessor_id))
            .join(Submission, col(Submission.enrolment_id) == col(Enrolment.id))
            .where(col(Submission.signed_off_at).is_(None))
        ).scalars()
    )
    at_risk = set(
        session.execute(
            select(col(Enrolment.assessor_id))
            .where(col(Enrolment.status).not_in(DONE_STATUSES), col(Enrolment.deadline) <= local.date() + timedelta(days=7))
            .distinct()
        ).scalars()
    )
    assessors = session.execute(
        select(col(Assessor.id), col(Assessor.chat_id)).where(col(Assessor.id).in_(waiting | at_risk), col(Assessor.chat_id).is_not(None))
    )
    return [
        DueReminder(f"digest:{assessor_id}:{local.date().isoformat()}", "digest", chat_id, None, assessor_id)
        for assessor_id, chat_id in assessors
    ]


def _discussions(session: Session, rules: ReminderRules, now: datetime) -> list[DueReminder]:
    """Both people of a planned discussion, once it is less than the lead time away (an appointment they agreed:
    sent in quiet hours and while nudges are paused, but not once the time has passed)."""
    rows = session.execute(
        select(Discussion, col(Enrolment.candidate_id), col(Candidate.chat_id), col(Assessor.chat_id))
        .join(Enrolment, col(Discussion.enrolment_id) == col(Enrolment.id))
        .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
        .join(Assessor, col(Discussion.assessor_id) == col(Assessor.id))
        .where(
            col(Discussion.status) == "planned",
            col(Discussion.planned_at) > now,
            col(Discussion.planned_at) <= now + rules.discussion_lead,
            col(Candidate.unreachable_at).is_(None),
        )
    ).all()
    due = []
    for discussion, candidate_id, candidate_chat, assessor_chat in rows:
        key = f"discussion:{discussion.id}:{discussion.planned_at.isoformat(timespec='minutes')}"
        due.append(DueReminder(f"{key}:candidate", "discussion", candidate_chat, candidate_id, None,
                               discussion.enrolment_id, discussion.id))
        if assessor_chat is not None:
            due.append(DueReminder(f"{key}:assessor", "discussion", assessor_chat, None, discussion.assessor_id,
                                   discussion.enrolment_id, discussion.id))
    return due


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        found.update(session.execute(select(col(Reminder.key)).where(col(Reminder.key).in_(chunk))).scalars())
    return found


def claim(session: Session, due: Iterable[DueReminder], now: datetime) -> list[Reminder]:
    """Record reminders under their keys; returns the ones this caller won (a key is won once).

    The caller queues what it won in the same transaction, so a claim never outlives its sender: either
    both the claim and the queued message are committed, or neither is.
    """
    due = list(due)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    won: set[str] = set()
    if due:
        rows = [
            {"key": r.key, "kind": r.kind, "chat_id": r.chat_id, "candidate_id": r.candidate_id,
             "assessor_id": r.assessor_id, "enrolment_id": r.enrolment_id, "discussion_id": r.discussion_id, "claimed_at": now,
             "status": "claimed", "attempts": 0}
            for r in due
        ]
        for start in range(0, len(rows), KEY_CHUNK):
            values = insert(Reminder).values(rows[start : start + KEY_CHUNK])
            statement = values.on_conflict_do_nothing(index_elements=["key"]).returning(col(Reminder.key))
            won.update(session.execute(statement).scalars())
    return list(session.execute(select(Reminder).where(col(Reminder.key).in_(won))).scalars()) if won else []


def came_back(repo: Repository, telegram_user_id: int) -> None:
    """Someone wrote: if they had blocked the bot, they can be reached, and reminded, again. (The candidate is
    read through the transaction's repository, which keeps them for the handlers that read them next.)"""
    candidate = repo.candidate_by_telegram_id(telegram_user_id)
    if candidate is not None and candidate.unreachable_at is not None:
        candidate.unreachable_at = None
        repo.add(candidate)


def mark_unreachable(session: Session, chat_id: int, now: datetime) -> list[Candidate]:
    """The chat blocked the bot: its candidates get no more reminders. Returns those newly marked."""
    candidates = list(
        session.execute(select(Candidate).where(col(Candidate.chat_id) == chat_id, col(Candidate.unreachable_at).is_(None))).scalars()
    )
    for candidate in candidates:
        candidate.unreachable_at = now
        session.add(candidate)
    return candidates


def _utc(value) -> datetime:
    """coalesce() loses the column's type: SQLite hands back text, PostgreSQL a datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
