"""Reminders: due from the database, sent once, outside quiet hours, within Telegram's limits, across restarts."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from telegram import Bot

from bot.domain.assessment import Assessment
from bot.domain.reminders import ReminderRules
from bot.domain.sittings import IncomingMessage, Person, ProbeAsked, Sittings
from bot.domain.submissions import Submissions
from bot.scheduling.reminders import ReminderSweep, person_unreachable
from bot.storage.db import transaction
from bot.storage.models import Candidate, OutboundMessage, Reminder
from bot.storage.outbox import pending_count
from bot.storage.repository import Repository
from bot.telegram.pacing import RateLimiter
from bot.telegram.sender import OutboxSender

START = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # a Monday, 00:30 in London: inside quiet hours
LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
RULES = ReminderRules()
ANN = Person(11, 11, "Ann Assessor")
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)


def test_quiet_hours_and_deadline_steps():
    assert RULES.quiet(datetime(2026, 11, 2, 21, 0, tzinfo=LONDON)) and RULES.quiet(datetime(2026, 11, 2, 7, 59, tzinfo=LONDON))
    assert not RULES.quiet(datetime(2026, 11, 2, 8, 0, tzinfo=LONDON))
    assert [RULES.deadline_step(d) for d in (20, 14, 10, 7, 4, 3, 2, 1, 0, -1)] == [None, 14, 14, 7, 7, 3, 3, 1, 1, None]


def test_the_rate_limiter_keeps_30_a_second_and_one_a_second_per_chat():
    clock = {"now": 0.0}
    limiter = RateLimiter(30, 1.0, clock=lambda: clock["now"])
    sends = []

    async def send_all():
        for n in range(90):
            real_sleep = asyncio.sleep

            async def fake_sleep(seconds):  # advance the fake clock instead of waiting
                clock["now"] += seconds
                await real_sleep(0)

            asyncio.sleep = fake_sleep
            try:
                await limiter.wait(chat_id=n % 3)
            finally:
                asyncio.sleep = real_sleep
            sends.append((clock["now"], n % 3))

    asyncio.run(send_all())
    times = [t for t, _ in sends]
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in zip(times, times[1:]))
    for chat in range(3):
        mine = [t for t, c in sends if c == chat]
        assert all(b - a >= 1.0 - 1e-9 for a, b in zip(mine, mine[1:]))


class Cohort:
    """Candidates enrolled at START, with their chats, as the simulation needs them."""

    def __init__(self, engine, banks):
        self.engine, self.banks = engine, banks
        self.people: dict[str, Person] = {}
        self.enrolments: dict[str, int] = {}
        with transaction(engine) as session:
            Assessment(Repository(session), banks, lambda: START).add_assessor(ANN.user_id, ANN.name)

    def enrol(self, name: str, user_id: int, days_to_deadline: int, zone: str | None = None) -> None:
        person = Person(user_id, user_id, name)
        with transaction(self.engine) as session:
            repo = Repository(session)
            assessment = Assessment(repo, self.banks, lambda: START)
            code = assessment.create_invite("cg-310", ANN.user_id, (START + timedelta(days=days_to_deadline)).date()).code
            assessment.redeem_invite(person, code)
            candidate = repo.candidate_by_telegram_id(user_id)
            candidate.timezone = zone
            repo.add(candidate)
            self.enrolments[name] = repo.enrolments(candidate.id)[0].id
        self.people[name] = person

    def sittings(self, session, now):
        return Sittings(Repository(session), self.banks, lambda: now)


async def simulate(engine, banks, emulator, cohort: Cohort, days: int, events: dict[int, callable]) -> list[tuple[datetime, str]]:
    """Sweep every hour for `days` days; the bot process 'restarts' (a new sweep and bot) half way."""
    sent: list[tuple[datetime, str]] = []
    clock = {"now": START}

    def new_sweep(bot):
        sender = OutboxSender(bot, engine, RateLimiter(1000, 0.0), now=lambda: clock["now"], on_unreachable=person_unreachable)
        return ReminderSweep(engine, banks, RULES, now=lambda: clock["now"]), sender

    bot = Bot("123456:TEST", base_url=emulator.base_url)
    await bot.initialize()
    sweep, sender = new_sweep(bot)
    for hour in range(days * 24):
        clock["now"] = START + timedelta(hours=hour)
        if hour in events:
            events[hour](clock["now"])
        if hour == days * 24 // 2:
            await bot.shutdown()
            bot = Bot("123456:TEST", base_url=emulator.base_url)
            await bot.initialize()
            sweep, sender = new_sweep(bot)
        result = await sweep.run()
        while await sender.send_due():
            pass
        sent += [(clock["now"], key) for key in result.queued]
    await bot.shutdown()
    return sent


def test_thirty_days_of_reminders_for_a_cohort(engine, banks, emulator):
    cohort = Cohort(engine, banks)
    cohort.enrol("ada", 601, days_to_deadline=20)  # London, does nothing
    cohort.enrol("ben", 602, days_to_deadline=10, zone="America/New_York")
    cohort.enrol("cat", 603, days_to_deadline=10)  # pauses reminders at once
    cohort.enrol("dan", 604, days_to_deadline=6)  # answers and submits on day 3
    cohort.enrol("eve", 605, days_to_deadline=40)  # the deadline is beyond the month
    cohort.enrol("fay", 606, days_to_deadline=12)  # the assessor moves her deadline on day 6

    def pause_cat(now):
        with transaction(engine) as session:
            cohort.sittings(session, now).reminders(cohort.people["cat"], True)

    def dan_submits(now):
        dan = cohort.people["dan"]
        with transaction(engine) as session:
            sittings = cohort.sittings(session, now)
            sittings.take_message(dan, IncomingMessage(FULL_ANSWER, dan.chat_id, 1, 1, now))
            while isinstance(sittings.finish(dan), ProbeAsked):
                pass
        with transaction(engine) as session:
            submissions = Submissions(Repository(session), banks, lambda: now)
            submissions.submit(dan, submissions.review(dan).enrolment_id)

    def move_fay(now):
        with transaction(engine) as session:
            repo = Repository(session)
            Assessment(repo, banks, lambda: now).change_deadline(606, "cg-310", (START + timedelta(days=20)).date())

    sent = asyncio.run(simulate(engine, banks, emulator, cohort, 30, {0: pause_cat, 3 * 24 + 12: dan_submits, 6 * 24 + 12: move_fay}))

    keys = [key for _, key in sent]
    assert len(keys) == len(set(keys)), "a reminder went out twice"
    by_person = {name: [(at, key) for at, key in sent if f":{cohort.enrolments[name]}:" in key] for name in cohort.people}

    def deadline_steps(name):
        return [int(key.rsplit(":", 1)[1]) for _, key in by_person[name] if key.startswith("deadline")]

    assert deadline_steps("ada") == [14, 7, 3, 1]
    assert deadline_steps("ben") == [14, 7, 3, 1]
    assert by_person["cat"] == []
    # Dan submitted one answer of the unit on day 3: the rest is still to do, so the reminders go on.
    assert deadline_steps("dan") == [7, 3, 1] and by_person["dan"][-1][0] > START + timedelta(days=3, hours=12)
    assert deadline_steps("eve") == [14]
    fay_deadlines = [key.split(":")[2] for _, key in by_person["fay"] if key.startswith("deadline")]
    assert fay_deadlines == [(START + timedelta(days=12)).date().isoformat()] * 2 + [(START + timedelta(days=20)).date().isoformat()] * 4
    # an idle nudge after five quiet days, for those who did nothing and had no deadline nudge then
    assert [key for _, key in by_person["ada"] if key.startswith("idle")] == [f"idle:{cohort.enrolments['ada']}:{START.isoformat(timespec='seconds')}"]
    assert [key for _, key in by_person["eve"] if key.startswith("idle")]

    for name, person in cohort.people.items():
        zone = NEW_YORK if name == "ben" else LONDON
        for at, key in by_person[name]:
            assert not RULES.quiet(at.astimezone(zone)), f"{key} went out in quiet hours"
        assert len(emulator.sent_messages(person.chat_id)) == len(by_person[name])
    ada_deadline = (START + timedelta(days=20)).date()
    for at, key in by_person["ada"]:
        if key.startswith("deadline"):
            step = int(key.rsplit(":", 1)[1])
            assert at.astimezone(LONDON).date() == ada_deadline - timedelta(days=step)
            assert at.astimezone(LONDON).hour == 8  # the first hour outside quiet hours
    first = emulator.sent_messages(cohort.people["ada"].chat_id)[0]
    assert "cg-310" in first["text"] and first["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "cont"


def test_429_is_waited_out_and_a_blocked_candidate_is_reported_to_the_assessor(engine, banks, emulator):
    cohort = Cohort(engine, banks)
    cohort.enrol("ada", 601, days_to_deadline=2)
    cohort.enrol("bob", 602, days_to_deadline=2)
    with transaction(engine) as session:
        assessor = Repository(session).assessor_by_telegram_id(ANN.user_id)
        assessor.chat_id = ANN.chat_id
        session.add(assessor)
    emulator.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=601)
    emulator.fail_next("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user", chat_id=602)
    started = time.monotonic()

    def noon():  # noon, and the clock runs: a retry after a 429 comes due
        return START + timedelta(hours=12, seconds=time.monotonic() - started)

    async def sweep_and_send():
        async with Bot("123456:TEST", base_url=emulator.base_url) as bot:
            sender = OutboxSender(bot, engine, RateLimiter(30, 1.0), now=noon, on_unreachable=person_unreachable)
            result = await ReminderSweep(engine, banks, RULES, now=noon).run()
            for _ in range(100):
                await sender.send_due()
                with transaction(engine) as session:
                    if pending_count(session) == 0:
                        break
                await asyncio.sleep(0.1)
            return result

    result = asyncio.run(sweep_and_send())
    assert result.found == result.claimed == 3  # ada, bob, and Ann's digest
    assert len(emulator.sent_messages(601)) == 1
    calls_to_ada = [c for c in emulator.calls if c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == "601"]
    assert len(calls_to_ada) == 2 and (calls_to_ada[1]["time"] - calls_to_ada[0]["time"]) >= 1.0  # not before retry_after
    to_ann = [m["text"] for m in emulator.sent_messages(ANN.chat_id)]
    assert sum("can't reach bob" in text for text in to_ann) == 1
    digests = [text for text in to_ann if "At risk" in text]  # the daily digest: both are due in two days
    assert len(digests) == 1 and digests[0].count("(due in 2 days)") == 2
    with transaction(engine) as session:
        assert session.exec(select(Candidate.unreachable_at).where(Candidate.telegram_user_id == 602)).one() is not None
        statuses = sorted(session.exec(
            select(Reminder.kind, OutboundMessage.status).join(OutboundMessage, Reminder.outbound_id == OutboundMessage.id)
        ).all())
    assert statuses == [("deadline", "sent"), ("deadline", "unreachable"), ("digest", "sent"), ("unreachable", "sent")]
    assert asyncio.run(sweep_and_send()).found == 0  # nothing more: bob is unreachable, ada had hers


def cohort_candidate_id(engine, telegram_id: int) -> int:
    with transaction(engine) as session:
        return Repository(session).candidate_by_telegram_id(telegram_id).id


@pytest.mark.slow
def test_two_bot_processes_on_one_postgresql_database_send_each_reminder_once(database_url, engine, banks, emulator, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes racing for reminders is the PostgreSQL deployment")
    from tests.botprocess import BotProcess
    from tests.phone import wait_until

    now = datetime.now(UTC)
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(ANN.user_id, ANN.name)
        for n in range(40):
            code = assessment.create_invite("cg-310", ANN.user_id, (now + timedelta(days=2)).date()).code
            assessment.redeem_invite(Person(7000 + n, 7000 + n, f"Candidate {n}"), code)
    bots = [BotProcess(emulator, database_url, tmp_path / f"bot{n}.log") for n in range(2)]
    for bot in bots:
        bot.env.update({"NVQBOT_REMINDER_SWEEP_SECONDS": "1", "NVQBOT_QUIET_HOURS": ""})
    try:
        for bot in bots:
            bot.start()

        def all_sent():
            with transaction(engine) as session:
                return session.exec(
                    select(Reminder).join(OutboundMessage, Reminder.outbound_id == OutboundMessage.id)
                    .where(OutboundMessage.status == "sent")
                ).all()

        wait_until(lambda: len(all_sent()) == 40, timeout=60, what="40 reminders")
        asyncio.run(asyncio.sleep(3))  # a few more sweeps by both processes
    finally:
        for bot in bots:
            bot.stop()
    for n in range(40):
        assert len(emulator.sent_messages(7000 + n)) == 1
    assert len(all_sent()) == 40
