"""One active bot, a standby ready: two `nvqbot run` processes on one database, the active one SIGKILLed."""

import time
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from bot.domain.assessment import Assessment
from bot.domain.sittings import Person
from bot.storage.db import transaction
from bot.storage.models import AnswerPart, InboundUpdate, OutboundMessage
from bot.storage.repository import Repository
from tests.botprocess import BotProcess
from tests.phone import wait_until

pytestmark = pytest.mark.slow


def count(engine, model, *where) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_a_standby_takes_over_within_seconds_when_the_active_bot_is_killed(emulator, database_url, engine, banks, tmp_path):
    people = [Person(30_000 + n, 30_000 + n, f"Candidate {n}") for n in range(60)]
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(11, "Ann Assessor")
        for person in people:
            assessment.redeem_invite(person, assessment.create_invite("cg-310", 11, date.today() + timedelta(days=30)).code)
    active = BotProcess(emulator, database_url, tmp_path / "active.log").start()
    standby = BotProcess(emulator, database_url, tmp_path / "standby.log").start(wait_for_polling=False)
    try:
        wait_until(lambda: "standing by" in standby.log(), timeout=30, what="the second process to stand by")
        assert standby.process.poll() is None and "is the active one" not in standby.log()
        errors_before = sum(1 for c in emulator.calls if c["method"] == "getUpdates" and c["error"])

        for person in people:
            emulator.post_message(person.user_id, f"My answer, from {person.name}.")
        wait_until(lambda: count(engine, AnswerPart) >= 5, what="the active bot to work through some answers")
        active.kill()
        killed_at = time.monotonic()
        assert count(engine, AnswerPart) < len(people), "the kill came too late to prove anything"

        wait_until(lambda: "is the active one" in standby.log(), timeout=10, what="the standby to take over")
        took_over_s = time.monotonic() - killed_at
        wait_until(lambda: count(engine, AnswerPart) == len(people), timeout=60, what="every answer")
        wait_until(lambda: count(engine, OutboundMessage, OutboundMessage.status == "pending") == 0, timeout=60,
                   what="every reply sent")
    finally:
        standby.stop()
        active.stop()
    assert took_over_s < 10
    with transaction(engine) as session:
        per_chat = dict(session.exec(select(AnswerPart.chat_id, func.count()).group_by(AnswerPart.chat_id)).all())
        assert session.exec(select(func.count()).where(InboundUpdate.processed_at.is_(None))).one() == 0
    assert per_chat == {p.chat_id: 1 for p in people}  # every answer kept, once
    for person in people:
        assert any("Got it" in m["text"] for m in emulator.sent_messages(person.chat_id))
    # the two never polled at once: Telegram (the emulator) refused no getUpdates with 409
    assert sum(1 for c in emulator.calls if c["method"] == "getUpdates" and c["error"]) == errors_before
