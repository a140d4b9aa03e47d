"""Two `nvqbot run` processes on one PostgreSQL database while candidates flood answers and reminders fall due;
the active one SIGKILLed mid-flood, the CLI exporting all the while. The standby takes over and nothing is lost,
doubled or forked: every answer kept once, every reply sent, each reminder once, the audit chain intact."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.domain.assessment import Assessment
from bot.domain.sittings import Person
from bot.storage import audit
from bot.storage.db import transaction
from bot.storage.models import AnswerPart, AuditEvent, InboundUpdate, OutboundMessage, Reminder
from bot.storage.repository import Repository
from tests.botprocess import BotProcess, nvqbot
from tests.phone import wait_until

pytestmark = pytest.mark.slow
PEOPLE = [Person(50_000 + n, 50_000 + n, f"Candidate {n}") for n in range(30)]
MESSAGES_EACH = 2
MOVED = PEOPLE[:3]  # their deadline moved after the takeover: one more reminder each, from the new active bot


def count(engine, model, *where) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def sent_reminders(engine) -> list[Reminder]:
    with transaction(engine) as session:
        return list(session.exec(
            select(Reminder).join(OutboundMessage, Reminder.outbound_id == OutboundMessage.id)
            .where(OutboundMessage.status == "sent", Reminder.kind == "deadline")
        ))


class ExportLoop(threading.Thread):
    """`nvqbot export` run again and again, as an assessor's tooling might while the bot works."""

    def __init__(self, database_url: str, people: list[Person], out: Path):
        super().__init__(daemon=True)
        self.database_url, self.people, self.out = database_url, people, out
        self.stop, self.done, self.failures = threading.Event(), 0, []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            person = self.people[n % len(self.people)]
            # written to files, so each export is recorded in the audit trail (appends racing the other loop's)
            made = nvqbot(self.database_url, "export", "--candidate", str(person.user_id), "--unit", "cg-310",
                          "--format", "json", "--out", str(self.out))
            try:
                assert made.returncode == 0, made.stderr
                record = json.loads((self.out / f"cg-310_{person.user_id}_evidence.json").read_text())
                assert record["evidence"]["candidate"]["name"] == person.name
            except (AssertionError, ValueError, KeyError) as error:
                self.failures.append(f"{person.user_id}: {error}")
            self.done += 1
            n += 1
            self.stop.wait(0.3)  # leave the bot some of the machine


def test_the_standby_takes_over_mid_flood_with_exports_running_and_nothing_is_lost_or_doubled(
    emulator, database_url, engine, banks, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("an active bot and a standby share a PostgreSQL database")
    due = (datetime.now(UTC) + timedelta(days=2)).date()  # a deadline reminder is due for everyone at once
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(11, "Ann Assessor")
        for person in PEOPLE:
            assessment.redeem_invite(person, assessment.create_invite("cg-310", 11, due).code)
    bots = [BotProcess(emulator, database_url, tmp_path / f"{name}.log") for name in ("active", "standby")]
    for bot in bots:
        bot.env.update({"NVQBOT_REMINDER_SWEEP_SECONDS": "1", "NVQBOT_QUIET_HOURS": ""})
    active, standby = bots
    exports = [ExportLoop(database_url, PEOPLE[n::2], tmp_path / f"records{n}") for n in range(2)]  # two at once: audit appends race
    try:
        active.start()
        standby.start(wait_for_polling=False)
        wait_until(lambda: "standing by" in standby.log(), timeout=30, what="the second process to stand by")
        for loop in exports:
            loop.start()
        wait_until(lambda: len(sent_reminders(engine)) >= 10, timeout=30, what="some reminders")

        for n in range(MESSAGES_EACH):
            for person in PEOPLE:
                emulator.post_message(person.user_id, f"Answer {n} from {person.name}: we log it on the CRM.")
        wait_until(lambda: count(engine, AnswerPart) >= 10, timeout=30, what="the active bot to work through some")
        active.kill()
        assert count(engine, AnswerPart) < len(PEOPLE) * MESSAGES_EACH, "the kill came too late to prove anything"

        wait_until(lambda: "is the active one" in standby.log(), timeout=15, what="the standby to take over")
        for person in MOVED:
            moved = nvqbot(database_url, "deadline", "--candidate", str(person.user_id), "--unit", "cg-310",
                           "--date", (due - timedelta(days=1)).isoformat())
            assert moved.returncode == 0, moved.stderr
        wait_until(lambda: count(engine, AnswerPart) == len(PEOPLE) * MESSAGES_EACH, timeout=90, what="every answer")
        wait_until(lambda: len(sent_reminders(engine)) == len(PEOPLE) + len(MOVED), timeout=60, what="every reminder")
        wait_until(lambda: count(engine, OutboundMessage, OutboundMessage.status == "pending") == 0, timeout=60,
                   what="every reply sent")
        time.sleep(3)  # a few more sweeps: nothing more may go out
    finally:
        for loop in exports:
            loop.stop.set()
        for loop in exports:
            loop.join(90)
        standby.stop()
        active.stop()

    with transaction(engine) as session:
        per_chat = dict(session.exec(select(AnswerPart.chat_id, func.count()).group_by(AnswerPart.chat_id)).all())
        texts = set(session.exec(select(AnswerPart.text)).all())
        assert session.exec(select(func.count()).where(InboundUpdate.processed_at.is_(None))).one() == 0
        assert session.exec(select(func.count()).where(InboundUpdate.last_error.is_not(None))).one() == 0
        unsent = session.exec(select(OutboundMessage).where(OutboundMessage.status != "sent")).all()
        broken = audit.broken_links(session)
        exported = session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "exported")).one()
    assert per_chat == {p.chat_id: MESSAGES_EACH for p in PEOPLE}  # every answer kept, once
    assert texts == {f"Answer {n} from {p.name}: we log it on the CRM." for n in range(MESSAGES_EACH) for p in PEOPLE}
    assert [(r.method, r.chat_id, r.last_error) for r in unsent] == []
    for person in PEOPLE:  # every reply sent (a reply a kill interrupted may come twice: never none)
        texts_to = [m["text"] for m in emulator.sent_messages(person.chat_id)]
        assert sum(t.startswith("Got it") for t in texts_to) >= MESSAGES_EACH, person
        reminders = [t for t in texts_to if t.startswith("⏰")]
        assert len(reminders) == (2 if person in MOVED else 1), (person, reminders)  # each reminder once
    keys = [r.key for r in sent_reminders(engine)]
    assert len(keys) == len(set(keys)) == len(PEOPLE) + len(MOVED)

    assert broken == []  # two exporters and a failover, and the chain never forked
    verified = nvqbot(database_url, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert all(not loop.failures for loop in exports), [loop.failures for loop in exports]
    assert sum(loop.done for loop in exports) >= 4 and exported >= sum(loop.done for loop in exports)
    # the two never polled at once: no getUpdates refused with 409
    assert not any(c["method"] == "getUpdates" and c["error"] and "Conflict" in c["error"] for c in emulator.calls)
