"""The reminder sweep: what is due is claimed under unique keys and queued in the outbox, in one transaction.

The sweep computes what is due from the database (so a restart, or a second bot process, loses nothing and
doubles nothing), claims it and queues each message in the outbox in the same transaction: a claim never
outlives its message. The sender (bot/telegram/sender.py) delivers them with everything else, paced under
Telegram's broadcast limits (30 a second, one a second a chat), by the one retry policy: a 429 is waited
out, a 5xx or a timeout retried with backoff; a 403 (the candidate blocked the bot) marks the candidate
unreachable and tells their assessor (`person_unreachable`).
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine
from sqlmodel import Session

from bot.domain.banks import Banks
from bot.domain.caseload import Caseload
from bot.domain.discussion_plans import DiscussionPlans
from bot.domain.judging import Judging
from bot.domain.reminders import MERGED, DueReminder, ReminderRules, claim, find_due, mark_unreachable
from bot.domain.sittings import Sittings
from bot.rendering import telegram_text
from bot.storage.db import transaction
from bot.storage.ids import stored, stored_id
from bot.storage.models import Assessor, Discussion, Enrolment, Reminder, utcnow
from bot.storage.outbox import queue_call
from bot.storage.repository import Repository
from bot.telegram import discussion_keyboards, keyboards
from bot.telegram.fitting import message_calls

log = logging.getLogger(__name__)
CLAIM_CHUNK = 500  # reminders claimed, rendered and queued per transaction


@dataclass
class SweepResult:
    found: int = 0
    claimed: int = 0
    queued: list[str] = field(default_factory=list)


class ReminderSweep:
    def __init__(
        self,
        engine: Engine,
        banks: Banks,
        rules: ReminderRules,
        wake_sender: Callable[[], None] = lambda: None,
        now: Callable[[], datetime] = utcnow,
    ):
        self.engine, self.banks, self.rules, self.wake_sender, self.now = engine, banks, rules, wake_sender, now
        self._running = asyncio.Lock()

    async def run(self) -> SweepResult:
        """One sweep; sweeps never overlap in one process."""
        async with self._running:
            now = self.now()
            result = SweepResult()
            with transaction(self.engine) as session:
                due = find_due(session, self.rules, now)
            result.found = len(due)
            for start in range(0, len(due), CLAIM_CHUNK):
                with transaction(self.engine) as session:
                    for reminder in claim(session, due[start : start + CLAIM_CHUNK], now):
                        result.claimed += 1
                        if self._queue(session, reminder):
                            result.queued.append(reminder.key)
                self.wake_sender()
            return result

    def _queue(self, session: Session, reminder: Reminder) -> bool:
        if reminder.kind == MERGED:
            reminder.status = MERGED
            session.add(reminder)
            return False
        text, keyboard = self._message(session, reminder)
        _queue_message(session, reminder, text, keyboard)
        return True

    def _message(self, session: Session, reminder: Reminder):
        repo = Repository(session)
        if reminder.kind == "discussion":
            plans = DiscussionPlans(repo, self.banks, self.now, zone=self.rules.timezone)
            plan = plans.plan(stored(session, Discussion, reminder.discussion_id))
            if reminder.assessor_id is None:
                return telegram_text("pd_reminder.html", plan=plan, audience="candidate"), None
            keyboard = discussion_keyboards.start(plan.discussion_id, plan.ref, plan.candidate)
            return telegram_text("pd_reminder.html", plan=plan, audience="assessor"), keyboard
        if reminder.kind == "digest":
            caseload = Caseload(repo, self.banks, self.now)
            assessor = stored(session, Assessor, reminder.assessor_id)
            at_risk = caseload.at_risk(assessor, self.rules.idle_days, self.rules.centre_date(self.now()))
            waiting = Judging(repo, self.banks, self.now).waiting_for(assessor)
            return telegram_text("digest.html", waiting=waiting, at_risk=at_risk), None
        enrolment = stored(session, Enrolment, reminder.enrolment_id)
        progress = Sittings(repo, self.banks, self.now).unit_progress(enrolment)
        days_left = (enrolment.deadline - self.now().date()).days
        text = telegram_text("reminder.html", kind=reminder.kind, progress=progress, days_left=days_left)
        return text, keyboards.carry_on()


def person_unreachable(session: Session, chat_id: int, now: datetime) -> None:
    """The sender's hook for a 403: the candidates of that chat get no more reminders, and each of their
    assessors is told once a day (under a reminder key of its own, so two processes never both tell)."""
    for candidate in mark_unreachable(session, chat_id, now):
        for enrolment in Repository(session).enrolments(stored_id(candidate)):
            assessor = session.get(Assessor, enrolment.assessor_id)
            if assessor is None or assessor.chat_id is None:
                continue
            notice = DueReminder(f"unreachable:{candidate.id}:{assessor.id}:{now.date().isoformat()}", "unreachable",
                                 assessor.chat_id, candidate.id, assessor.id, enrolment.id)
            for won in claim(session, [notice], now):
                text = telegram_text("candidate_unreachable.html", candidate=candidate.name, unit_code=enrolment.unit_code)
                _queue_message(session, won, text)


def _queue_message(session: Session, reminder: Reminder, text: str, keyboard=None) -> None:
    """Queue the reminder's message, paced (in several parts if it is long); the reminder points at its last."""
    for params in message_calls(reminder.chat_id, text, keyboard):
        reminder.outbound_id = queue_call(session, reminder.chat_id, "sendMessage", params, paced=True).id
    reminder.status = "queued"
    session.add(reminder)


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
            log.info("reminders: %d due, %d claimed, %d queued", result.found, result.claimed, len(result.queued))

    return run
