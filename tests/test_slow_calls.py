"""A slow file and a hung reply hold up no one else: the real bot process over the emulator, times read from the
emulator's own record of the calls (on SQLite and PostgreSQL)."""

import hashlib
import time
from datetime import date, timedelta

import pytest
from sqlmodel import select

from bot.domain.assessment import Assessment
from bot.domain.sittings import Person
from bot.storage.db import transaction
from bot.storage.models import Attachment, OutboundMessage
from bot.storage.repository import Repository
from tests.phone import Phone, wait_until

pytestmark = pytest.mark.slow
SAM, OTHERS = 501, (502, 503, 504)


def enrol(engine, banks, *user_ids: int) -> None:
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(11, "Ann Assessor")
        for user_id in user_ids:
            code = assessment.create_invite("cg-310", 11, date.today() + timedelta(days=30)).code
            assessment.redeem_invite(Person(user_id, user_id, f"Candidate {user_id}"), code)


def replies_to(emulator, chat_id: int) -> list[dict]:
    """The sendMessage calls the emulator served to a chat (not those still hanging or dropped)."""
    texts = {m["text"] for m in emulator.sent_messages(chat_id)}
    return [c for c in emulator.calls if c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == str(chat_id)
            and c["error"] is None and c["params"].get("text") in texts]


def test_a_four_second_download_delays_no_one_elses_reply_by_a_second(emulator, bot, engine, banks):
    enrol(engine, banks, SAM, *OTHERS)
    bot.start()
    emulator.post_document(SAM, b"%PDF a site video, slow to come " * 100, "evidence.pdf", "application/pdf",
                           download_delay=4.0)
    wait_until(lambda: any(c["method"] == "getFile" for c in emulator.calls), what="the bot to fetch Sam's file")
    download_from = next(c["time"] for c in emulator.calls if c["method"] == "getFile")

    asked = []  # (person, when they wrote), each while Sam's file is still downloading
    for person in OTHERS:
        for n in range(2):
            before = len(emulator.sent_messages(person))
            asked.append((person, time.time()))
            Phone(emulator, person).post(f"We log complaint {n} on the CRM and tell the customer what happens next.")
            wait_until(lambda p=person, b=before: len(emulator.sent_messages(p)) > b, timeout=5, what=f"a reply to {person}")
    assert not emulator.downloads, "the download came too soon to prove anything"

    for (person, written), reply in zip(asked, [r for p in OTHERS for r in replies_to(emulator, p)], strict=True):
        assert reply["time"] - written < 1.0, f"{person} waited {reply['time'] - written:.2f} s for a reply"
        assert reply["time"] < download_from + 4.0  # while the file was still coming
    assert "Got it" in emulator.sent_messages(SAM)[0]["text"]  # Sam's own reply did not wait for the file either

    row = wait_until(lambda: (r := _attachment(engine)) and r.sha256 and r, timeout=20, what="the file, fingerprinted")
    assert row.sha256 == hashlib.sha256(b"%PDF a site video, slow to come " * 100).hexdigest()
    assert row.fetched_at is not None and row.fetch_attempts == 1


def test_an_eight_second_hang_on_a_reply_holds_up_no_one_else_and_it_is_retried_and_delivered_once(
    emulator, bot, engine, banks
):
    enrol(engine, banks, SAM, *OTHERS)
    bot.start()
    emulator.delay_next("sendMessage", 8, chat_id=SAM)
    hung_at = time.time()
    Phone(emulator, SAM).post("We record every complaint on the CRM system.")
    wait_until(lambda: any(str(c["params"].get("chat_id")) == str(SAM) for c in emulator.calls
                           if c["method"] == "sendMessage"), what="the reply to Sam to hang")
    Phone(emulator, SAM).post("And the team leader reviews the log each week.")  # queued behind the hung one

    for person in OTHERS:  # others write while Sam's reply hangs: each is answered at once
        written = time.time()
        Phone(emulator, person).post("We follow the complaints procedure.")
        wait_until(lambda p=person: emulator.sent_messages(p), timeout=5, what=f"a reply to {person}")
        assert replies_to(emulator, person)[0]["time"] - written < 1.0
    assert emulator.sent_messages(SAM) == [], "the hang ended too soon to prove anything"

    texts = [m["text"] for m in emulator.wait_for_messages(SAM, 2, timeout=30)]
    time.sleep(1.0)  # room for a copy to arrive, if one were coming
    texts = [m["text"] for m in emulator.sent_messages(SAM)]
    assert len(texts) == 2 and texts[0].startswith("Got it") and "2 messages so far" in texts[1]  # once each, in order
    to_sam = [c for c in emulator.calls if c["method"] == "sendMessage" and str(c["params"].get("chat_id")) == str(SAM)]
    assert len(to_sam) == 3  # the hung call, given up by the bot and dropped, its retry, then the second reply
    assert to_sam[1]["time"] - hung_at >= 4.0  # retried after the bot's read timeout, not while it was waiting
    assert to_sam[1]["params"]["text"] == to_sam[0]["params"]["text"]
    with transaction(engine) as session:
        first = session.exec(select(OutboundMessage).where(OutboundMessage.chat_id == SAM)
                             .order_by(OutboundMessage.id)).first()
    assert first.status == "sent" and first.attempts == 2 and "TimedOut" in first.last_error


def _attachment(engine) -> Attachment | None:
    with transaction(engine) as session:
        return session.exec(select(Attachment)).first()
