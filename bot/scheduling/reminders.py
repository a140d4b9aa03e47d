"""Sending what is due: claim under unique keys, then send within Telegram's limits.

The sweep computes what is due from the database (so a restart, or a second bot process, loses
nothing and doubles nothing), claims it, and sends at no more than `rate` messages a second overall
and one a second to any chat. A 429 is waited out (retry_after) and retried; a 403 (the candidate
blocked the bot) marks the candidate unreachable and tells their assessor.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, RetryAfter, TelegramError

from bot.domain.banks import Banks
from bot.domain.caseload import Caseload
from bot.domain.judging import Judging
from bot.domain.reminders import MERGED, DueReminder, ReminderRules, claim, find_due
from bot.domain.sittings import Sittings
from bot.rendering import telegram_text
from bot.storage.db import transaction
from bot.storage.models import Assessor, Candidate, Enrolment, Reminder, utcnow
from bot.storage.repository import Repository
from bot.telegram import keyboards

log = logging.getLogger(__name__)
RETRIES_AFTER_429 = 5


# Paced a little under the limits: loopback jitter alone can otherwise fit 31 sends into one second.
SAFETY = 1.03


class RateLimiter:
    """At most `rate` sends a second overall, and one per `per_chat` seconds to any chat (with a margin)."""

    def __init__(self, rate: float, per_chat: float, clock: Callable[[], float] = time.monotonic):
        self.interval, self.per_chat, self.clock = SAFETY / rate, per_chat * SAFETY, clock
        self._next_send = 0.0
        self._next_for_chat: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        now = self.clock()
        start = max(now, self._next_send, self._next_for_chat.get(chat_id, 0.0))
        self._next_send = start + self.interval
        self._next_for_chat[chat_id] = start + self.per_chat
        if start > now:
            await asyncio.sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Telegram said 429: nothing goes out for a while."""
        self._next_send = max(self._next_send, self.clock() + seconds)


@dataclass
class SweepResult:
    found: int = 0
    claimed: int = 0
    sent: list[str] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)
    retried_429: int = 0


class ReminderSweep:
    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        banks: Banks,
        rules: ReminderRules,
        limiter: RateLimiter,
        now: Callable[[], datetime] = utcnow,
    ):
        self.bot, self.engine, self.banks, self.rules, self.limiter, self.now = bot, engine, banks, rules, limiter, now
        self._running = asyncio.Lock()

    async def run(self) -> SweepResult:
        """One sweep; sweeps never overlap in one process."""
        async with self._running:
            now = self.now()
            result = SweepResult()
            with transaction(self.engine) as session:
                due = find_due(session, self.rules, now)
                result.found = len(due)
            with transaction(self.engine) as session:
                ours = [(r.id, r.key, r.kind, r.chat_id, r.candidate_id, r.assessor_id, r.enrolment_id)
                        for r in _spread_by_chat(claim(session, due, now))]
            result.claimed = len(ours)
            for reminder_id, key, kind, chat_id, candidate_id, assessor_id, enrolment_id in ours:
                due_reminder = DueReminder(key, kind, chat_id, candidate_id, assessor_id, enrolment_id)
                await self._send(reminder_id, due_reminder, result)
            return result

    async def _send(self, reminder_id: int, reminder: DueReminder, result: SweepResult) -> None:
        if reminder.kind == MERGED:
            self._record(reminder_id, "merged")
            return
        with transaction(self.engine) as session:
            text, keyboard = self._message(session, reminder)
        for _ in range(RETRIES_AFTER_429 + 1):
            await self.limiter.wait(reminder.chat_id)
            try:
                await self.bot.send_message(reminder.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
            except RetryAfter as error:
                seconds = _seconds(error.retry_after)
                result.retried_429 += 1
                self.limiter.hold(seconds)
                continue
            except Forbidden as error:
                self._blocked(reminder_id, reminder, repr(error))
                result.unreachable.append(reminder.candidate_id)
                await self._tell_assessor_unreachable(reminder)
                return
            except TelegramError as error:
                self._record(reminder_id, "failed", repr(error))
                return
            self._record(reminder_id, "sent")
            result.sent.append(reminder.key)
            return
        self._record(reminder_id, "failed", "Telegram kept answering 429")

    def _message(self, session, reminder: DueReminder):
        repo = Repository(session)
        if reminder.kind == "digest":
            caseload = Caseload(repo, self.banks, self.now)
            assessor = session.get(Assessor, reminder.assessor_id)
            soon = self.now().date() + timedelta(days=7)
            at_risk = [row for row in caseload.cohort_of(assessor) if row.deadline <= soon and row.missing]
            text = telegram_text("digest.html", waiting=Judging(repo, self.banks, self.now).waiting_for(assessor), at_risk=at_risk)
            return text, None
        enrolment = session.get(Enrolment, reminder.enrolment_id)
        progress = Sittings(repo, self.banks, self.now).unit_progress(enrolment)
        days_left = (enrolment.deadline - self.now().date()).days
        text = telegram_text("reminder.html", kind=reminder.kind, progress=progress, days_left=days_left)
        return text, keyboards.carry_on()

    def _record(self, reminder_id: int, status: str, error: str | None = None) -> None:
        with transaction(self.engine) as session:
            reminder = session.get(Reminder, reminder_id)
            reminder.status, reminder.attempts, reminder.last_error = status, reminder.attempts + 1, error
            if status == "sent":
                reminder.sent_at = self.now()
            session.add(reminder)

    def _blocked(self, reminder_id: int, reminder: DueReminder, error: str) -> None:
        self._record(reminder_id, "unreachable", error)
        with transaction(self.engine) as session:
            candidate = session.get(Candidate, reminder.candidate_id)
            candidate.unreachable_at = self.now()
            session.add(candidate)

    async def _tell_assessor_unreachable(self, reminder: DueReminder) -> None:
        """Recorded under its own key too, so two processes never both tell."""
        with transaction(self.engine) as session:
            enrolment = session.get(Enrolment, reminder.enrolment_id)
            assessor = session.get(Assessor, enrolment.assessor_id)
            candidate = session.get(Candidate, reminder.candidate_id)
            if assessor.chat_id is None:
                return
            notice = DueReminder(f"unreachable:{candidate.id}:{self.now().date().isoformat()}", "unreachable", assessor.chat_id,
                                 candidate.id, assessor.id, enrolment.id)
            won = claim(session, [notice], self.now())
            text = telegram_text("candidate_unreachable.html", candidate=candidate.name, unit_code=enrolment.unit_code)
            won_ids = [r.id for r in won if r.key == notice.key]
        if won_ids:
            await self.limiter.wait(notice.chat_id)
            try:
                await self.bot.send_message(notice.chat_id, text, parse_mode=ParseMode.HTML)
                self._record(won_ids[0], "sent")
            except TelegramError as error:
                self._record(won_ids[0], "failed", repr(error))


def _spread_by_chat(reminders: list[Reminder]) -> list[Reminder]:
    """Round-robin over chats, so a chat's second reminder never holds up everyone else's first."""
    by_chat: dict[int, list[Reminder]] = {}
    for reminder in sorted(reminders, key=lambda r: r.id):
        by_chat.setdefault(reminder.chat_id, []).append(reminder)
    rounds = max((len(queue) for queue in by_chat.values()), default=0)
    return [queue[n] for n in range(rounds) for queue in by_chat.values() if n < len(queue)]


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)


def start_sweeping(sweep: ReminderSweep, every_seconds: int):
    """Run the sweep now and then every so often, inside the running event loop; returns the scheduler."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        _logged(sweep), "interval", seconds=every_seconds, max_instances=1, coalesce=True, next_run_time=utcnow()
    )
    scheduler.start()
    return scheduler


def _logged(sweep: ReminderSweep):
    async def run() -> None:
        try:
            result = await sweep.run()
        except Exception:  # a failed sweep (e.g. the database is down) is logged; the next one tries again
            log.exception("reminder sweep failed")
            return
        if result.claimed:
            log.info("reminders: %d due, %d claimed, %d sent", result.found, result.claimed, len(result.sent))

    return run
