"""Held against abuse, end to end over the emulator: a flood is held without slowing anyone else, through a
restart; and the limits on an answer's messages and a message's characters, as a candidate meets them."""

import time

import pytest
from sqlmodel import select

from bot.storage.db import transaction
from bot.storage.models import AnswerPart, OutboundMessage
from tests.phone import Phone, add_assessor, invite, wait_until

pytestmark = pytest.mark.slow
SAM, KIM = 501, 502
SLOW_DOWN = "please slow down"


def reply_delay(emulator, phone: Phone, text: str) -> float:
    """Seconds from posting a message to the bot's sendMessage to that chat, by the emulator's clock of calls."""
    before, posted = len(phone.received), time.time()
    phone.post(text)
    phone.next_reply(before, timeout=30)
    return next(
        call["time"] for call in emulator.calls
        if call["method"] == "sendMessage" and call["time"] >= posted and str(call["params"].get("chat_id")) == str(phone.user_id)
    ) - posted


def part_texts(engine) -> list[str]:
    with transaction(engine) as session:
        return list(session.exec(select(AnswerPart.text).where(AnswerPart.chat_id == SAM).order_by(AnswerPart.seq)))


def slow_downs_queued(engine) -> list[str]:
    with transaction(engine) as session:
        calls = session.exec(select(OutboundMessage).where(OutboundMessage.chat_id == SAM)).all()
        return [call.status for call in calls if SLOW_DOWN in call.params.get("text", "")]


def test_a_flood_is_held_in_order_with_one_slow_down_and_no_one_elses_reply_waits(emulator, bot, database_url, engine):
    bot.env["NVQBOT_MESSAGES_PER_MINUTE"] = "10"
    add_assessor(database_url)
    sam_code, kim_code = invite(database_url), invite(database_url)
    bot.start()
    sam, kim = Phone(emulator, SAM, "Sam"), Phone(emulator, KIM, "Kim")
    sam.send(f"/start {sam_code}")  # Sam's first of ten this minute
    kim.send(f"/start {kim_code}")
    usual = reply_delay(emulator, kim, "We log every complaint on the CRM.")

    flood = [f"part {n}" for n in range(1, 16)]
    for text in flood:
        sam.post(text)
    during = reply_delay(emulator, kim, "Then the team leader reviews the log each week.")
    assert during < usual + 5.0, (usual, during)  # Sam's five held messages wait a minute; Kim does not
    wait_until(lambda: any(SLOW_DOWN in text for text in sam.texts()), what="the slow-down")
    assert part_texts(engine) == flood[:9]  # the other six are held, not lost
    # (once sent: a reply cut off by a kill is sent again, at least once)
    wait_until(lambda: slow_downs_queued(engine) == ["sent"], what="the slow-down to be recorded as sent")

    bot.kill()  # what is held is in the database: a restart holds and releases the same
    bot.start()
    wait_until(lambda: len(part_texts(engine)) == 15, timeout=90, what="the held messages to be filed")
    assert part_texts(engine) == flood  # in the order Sam sent them
    assert sam.wait_for("15 messages so far")
    assert sum(SLOW_DOWN in text for text in sam.texts()) == 1 and slow_downs_queued(engine) == ["sent"]


def test_a_full_answer_and_a_too_long_message_are_refused_clearly_and_the_answer_goes_on(
    emulator, bot, database_url, engine
):
    bot.env.update({"NVQBOT_MAX_PARTS_PER_ANSWER": "2", "NVQBOT_MAX_MESSAGE_CHARS": "60"})
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam = Phone(emulator, SAM, "Sam")
    sam.send(f"/start {code}")

    too_long = sam.send("We record every complaint on the CRM system and follow the procedure.")["text"]
    assert "69 characters long, more than the 60 I can keep" in too_long and "haven't added it" in too_long
    sam.send("We record every complaint on the CRM system.")
    sam.send("The team leader reviews the log every week.")
    full = sam.send("And we tell the customer what happens next.")
    assert "already has 2 messages" in full["text"] and "tap <b>Done</b>" in full["text"]
    assert part_texts(engine) == ["We record every complaint on the CRM system.", "The team leader reviews the log every week."]
    assert "Question 2 of" in sam.press("done", on=full)["text"]  # a full answer is kept, not probed
