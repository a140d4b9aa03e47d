"""Input as it really comes, end to end over the emulator: buttons and messages from other chats, forwarded
messages, characters a database cannot hold, and files fetched off the update path."""

import json

import pytest
from sqlmodel import select

from bot.storage.db import transaction
from bot.storage.models import AnswerPart, Attachment, Candidate, InboundUpdate
from tests.botprocess import nvqbot
from tests.phone import Phone, add_assessor, enrolled, exported, invite, wait_until

pytestmark = pytest.mark.slow
SAM, KIM = 501, 502
GROUP = -1001234567
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)


@pytest.fixture
def sam(emulator, bot, database_url) -> Phone:
    return enrolled(emulator, bot, database_url, SAM)


def processed(engine, update: dict) -> bool:
    with transaction(engine) as session:
        row = session.get(InboundUpdate, update["update_id"])
        return row is not None and row.processed_at is not None


def chat_of(engine, telegram_id: int) -> int | None:
    with transaction(engine) as session:
        candidate = session.exec(select(Candidate).where(Candidate.telegram_user_id == telegram_id)).first()
        return candidate.chat_id if candidate else None


def test_a_forged_button_from_another_persons_chat_or_a_group_changes_nothing(sam, emulator, engine, database_url):
    kim = Phone(emulator, KIM, "Kim")
    sam.send(FULL_ANSWER)
    kims_message = kim.send("/help")
    before = {chat: len(emulator.sent_messages(chat)) for chat in (KIM, GROUP)}

    for chat, message_id in [(KIM, kims_message["message_id"]), (GROUP, 1)]:
        count = len(sam.received)
        emulator.press_button(SAM, message_id, "done", chat_id=chat)
        refusal = sam.next_reply(count)["text"]
        assert "didn't come from your own chat with me" in refusal and "nothing has changed" in refusal

    assert chat_of(engine, SAM) == SAM  # outcomes and reminders still go to Sam's own chat
    assert {chat: len(emulator.sent_messages(chat)) for chat in (KIM, GROUP)} == before
    assert [a["status"] for a in exported(database_url, SAM)["evidence"]["answers"]] == ["open"]  # Done was not applied
    assert "Question 2 of" in sam.press("done")["text"]  # Sam's own button still works


def test_messages_from_a_group_get_no_reply_and_create_nothing(sam, emulator, engine, database_url):
    code, welcomed = invite(database_url), len(sam.received)
    messages = [
        emulator.post_message(KIM, f"/start {code}", first_name="Kim", chat_id=GROUP),
        emulator.post_message(SAM, FULL_ANSWER, chat_id=GROUP),
        emulator.post_message(SAM, "/help", chat_id=GROUP),
        emulator.post_message(SAM, "a forged private chat", chat_id=KIM),
    ]
    wait_until(lambda: all(processed(engine, m) for m in messages), what="the group's messages to be processed")
    assert emulator.sent_messages(GROUP) == [] and emulator.sent_messages(KIM) == []
    assert len(sam.received) == welcomed
    assert chat_of(engine, KIM) is None and chat_of(engine, SAM) == SAM
    with transaction(engine) as session:
        assert session.exec(select(AnswerPart)).all() == []
    assert "Got it" in sam.send(FULL_ANSWER)["text"]  # the bot carries on


def test_a_forwarded_message_is_kept_as_forwarded_and_the_candidate_is_asked_for_their_own_words(
    sam, emulator, database_url, tmp_path
):
    count = len(sam.received)
    emulator.post_forwarded(SAM, "Always log complaints on the CRM within the hour.", kind="user", name="Jo Bloggs",
                            date=1_782_900_000)
    reply = sam.next_reply(count)
    assert "forwarded from <b>Jo Bloggs</b>" in reply["text"] and "in your own words" in reply["text"]
    assert reply["reply_markup"]["inline_keyboard"]  # Done and the rest, as for any message
    sam.send("I log each complaint on the CRM and my team leader reviews the log every week.")
    sam.press("done")

    record = exported(database_url, SAM)
    [answer] = record["evidence"]["answers"]
    forwarded, own = answer["parts"]
    assert forwarded["forwarded_from"] == {"kind": "user", "name": "Jo Bloggs", "date": "2026-07-01T10:00:00+00:00"}
    assert forwarded["text"] == "Always log complaints on the CRM within the hour." and "forwarded_from" not in own
    assert answer["answer"] == "I log each complaint on the CRM and my team leader reviews the log every week."

    out = tmp_path / "records"
    made = nvqbot(database_url, "export", "--candidate", str(SAM), "--unit", "cg-310", "--format", "html",
                  "--format", "json", "--out", str(out))
    assert made.returncode == 0, made.stderr
    transcript = (out / f"cg-310_{SAM}_transcript.html").read_text(encoding="utf-8")
    marked = "Forwarded, not the candidate's own words:</strong> from “Jo Bloggs” (a Telegram user), first sent"
    assert f"{marked} 1 Jul 2026" in transcript
    record_file = out / f"cg-310_{SAM}_evidence.json"
    assert nvqbot(database_url, "verify", str(record_file)).returncode == 0
    tampered = json.loads(record_file.read_text(encoding="utf-8"))
    tampered["evidence"]["answers"][0]["parts"][0]["forwarded_from"]["name"] = "Sam Candidate"
    record_file.write_text(json.dumps(tampered), encoding="utf-8")
    assert nvqbot(database_url, "verify", str(record_file)).returncode == 1  # the origin is sealed with the rest


def test_a_nul_and_other_control_characters_are_kept_visible_and_marked_and_the_bot_runs_on(
    sam, emulator, engine, database_url
):
    assert "Got it" in sam.send("We log it\x00 on the CRM\x07 system \ud800 straight away.")["text"]
    assert "2 messages so far" in sam.send(FULL_ANSWER)["text"]  # still running, and nothing lost
    sam.press("done")
    parts = exported(database_url, SAM)["evidence"]["answers"][0]["parts"]
    assert parts[0]["text"] == "We log it\u2400 on the CRM\u2407 system \ufffd straight away."
    assert parts[0]["text_cleaned"] is True and "text_cleaned" not in parts[1]
    with transaction(engine) as session:  # the raw update is kept as Telegram sent it
        payloads = [row.payload for row in session.exec(select(InboundUpdate))]
    assert any(p.get("message", {}).get("text") == "We log it\x00 on the CRM\x07 system \ud800 straight away."
               for p in payloads)


def test_files_are_fetched_beside_the_updates_with_retries_and_a_refusal_is_recorded(emulator, bot, engine,
                                                                                     database_url):
    bot.env["NVQBOT_MAX_FILE_BYTES"] = "100000"
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam, kim = Phone(emulator, SAM, "Sam", "Candidate"), Phone(emulator, KIM, "Kim")
    sam.send(f"/start {code}")

    emulator.delay_next("getFile", 4)  # Sam's voice note hangs in getFile for 4 seconds, then fails twice
    emulator.fail_next("getFile", times=2, error_code=502, description="Bad Gateway")
    count = len(sam.received)
    emulator.post_voice(SAM, b"OggS voice " * 500, duration=20)
    sam.next_reply(count)
    kim.post("/help")
    assert "/continue" in kim.next_reply(0, timeout=1.5)["text"]  # nobody waits for Sam's file
    voice = wait_until(lambda: _attachments(engine)[0].sha256 and _attachments(engine)[0], timeout=20,
                       what="the voice note, fetched at the third attempt")
    assert (voice.fetch_attempts, voice.fetch_error, voice.fetch_failed_at) == (3, None, None)

    count = len(sam.received)
    emulator.post_document(SAM, b"%PDF " + b"x" * 200_000, "site-video.pdf", "application/pdf")
    sam.next_reply(count)
    document = wait_until(lambda: len(_attachments(engine)) == 2 and _attachments(engine)[1].fetch_failed_at
                          and _attachments(engine)[1], what="the document, refused")
    assert document.sha256 is None and document.fetch_error.startswith("FileRefused: too big: 200,005 bytes")
    assert not any(path.endswith(".pdf") for path in emulator.downloads)  # its size was checked first
    sam.press("done")
    files = [p["attachment"] for p in exported(database_url, SAM)["evidence"]["answers"][0]["parts"]]
    assert files[0]["sha256"] == voice.sha256 and "not_fetched" not in files[0]
    assert files[1]["sha256"] is None and files[1]["not_fetched"] == document.fetch_error


def _attachments(engine) -> list[Attachment]:
    with transaction(engine) as session:
        return list(session.exec(select(Attachment).order_by(Attachment.id)))
