"""Witness testimony end to end, over the Bot API emulator with the real bot process: the candidate names a witness
and the criteria they saw, forwards the one-use link; the witness opens it, writes and speaks a statement, confirms
it; the assessor judges it; the exported record lists the witness; a stranger using the same link is refused."""

import pytest

from bot.documents import render_html
from tests.phone import Phone, enrolled, exported, newest_with, press, record_of, wait_until

pytestmark = pytest.mark.slow
SAM, ANN, JO, EVE = 801, 11, 901, 902  # enrolled() makes Ann (Telegram id 11) Sam's assessor
SAW = ("310.1.1", "310.1.4")
DETAILS = "Jo Smith\nTeam leader\nMy line manager\n07700 900123"
STATEMENT = "On 12 November I heard Sam ring a customer back twice to say when the missing parcel would come."


def test_a_witness_gives_a_statement_by_link_it_is_judged_and_listed_and_the_used_link_refuses_a_stranger(
    emulator, bot, database_url
):
    sam = enrolled(emulator, bot, database_url, SAM)
    ann = Phone(emulator, ANN, "Ann", "Assessor")

    # Sam names the witness (one unit: no choice), their details in one message, then what they saw.
    assert "one message, one per line" in sam.send("/witness")["text"]
    choosing = sam.send(DETAILS)
    assert "What did Jo Smith see?" in choosing["text"] and "keep customers informed" in choosing["text"]
    for ref in SAW:
        before = len(emulator.calls)
        message, data = newest_with(sam, "wtcrit:")
        emulator.press_button(SAM, message["message_id"], data.rsplit(":", 1)[0] + f":{ref}")
        wait_until(lambda since=before: any(c["method"] == "editMessageReplyMarkup" for c in emulator.calls[since:]),
                   what="a tick")
    before = len(sam.received)
    press(sam, "wtlink:")
    invitation = wait_until(lambda: len(sam.received) >= before + 2 and sam.received[before + 1], what="the invitation")
    assert "Forward the next message to Jo Smith" in sam.received[before]["text"]
    assert "Sam Candidate asks you for a short witness statement" in invitation["text"]
    link = invitation["text"].split("https://t.me/", 1)[1].split()[0]
    username, code = link.split("?start=")
    assert username == "nvqbot_demo_bot" and code.startswith("wt-") and len(code) <= 64

    # Jo opens it: who asks, for whom, what to confirm in the bank's words, and not to name customers.
    jo = Phone(emulator, JO, "Jo", "Telegram")
    asked = jo.send(f"/start {code}")["text"]
    assert "Sam Candidate asks you to say what you saw" in asked and "Ann Assessor" in asked
    assert "keep customers informed of the actions being taken (310.1.4)" in asked
    assert "Don't name customers" in asked

    # A statement: a text and a voice note, then Done and the declaration.
    before = len(jo.received)
    sent = jo.post(STATEMENT)
    assert "Kept (1 message)" in jo.next_reply(before)["text"]
    before = len(jo.received)
    emulator.edit_message(JO, sent["message"]["message_id"], "changed my mind")  # what was sent stays as sent
    assert "keeps each message as you first sent it" in jo.next_reply(before)["text"]
    assert "Your witness statement for Sam Candidate" in jo.send("/start")["text"]  # back to it, without the link
    before = len(jo.received)
    emulator.post_voice(JO, b"OggS the witness speaking", duration=9)
    assert "Kept (2 messages)" in jo.next_reply(before)["text"]
    declaration = press(jo, "wtdone:")["text"]
    assert STATEMENT in declaration and "I confirm that this statement is true" in declaration
    notice = press(jo, "wtok:", wait_for=ann)
    assert "Jo Smith confirmed a witness statement (WT1) for Sam Candidate" in notice["text"]
    wait_until(lambda: any("Thank you, Jo Smith" in t for t in jo.texts()), what="Jo thanked")
    wait_until(lambda: any("Jo Smith confirmed their witness statement" in t for t in sam.texts()), what="Sam told")

    # Ann judges it from her queue: met, and still the criterion is only answered (testimony supports, never meets).
    to_judge = press(ann, "open:")
    assert "WT1.v1" in to_judge["text"] and "ring a customer back twice" in to_judge["text"]
    assert "<b>Witness statement</b> by Jo Smith, Team leader (My line manager)" in to_judge["text"]
    press(ann, "met:")

    # A stranger opening the same link is refused, and nothing changes.
    before_stranger = exported(database_url, SAM)["evidence"]
    eve = Phone(emulator, EVE, "Eve", "Stranger")
    assert "already been used by someone else" in eve.send(f"/start {code}")["text"]
    eve.send("I saw it too")  # Eve is nobody's witness: nothing of hers is kept in the statement
    evidence = exported(database_url, SAM)["evidence"]
    assert evidence["witnesses"] == before_stranger["witnesses"]

    [witness] = evidence["witnesses"]
    assert (witness["name"], witness["job_role"], witness["relationship"], witness["contact"]) == (
        "Jo Smith", "Team leader", "My line manager", "07700 900123")
    assert witness["criteria"] == list(SAW) and witness["status"] == "confirmed" and witness["date_confirmed"]
    assert (witness["telegram_user_id"], witness["telegram_name"]) == (JO, "Jo Telegram")
    testimony = next(a for a in evidence["answers"] if a["ref"] == "WT1.v1")
    assert testimony["method"] == "WT" and testimony["submission"] and testimony["status"] == "complete"
    assert [(p["author"], p["text"], (p["attachment"] or {}).get("kind")) for p in testimony["parts"]] == [
        ("witness", STATEMENT, None), ("witness", None, "voice")]
    assert [j["outcome"] for j in testimony["judgments"]] == ["met"]
    coverage = {c["ref"]: c for c in evidence["coverage"]}
    for ref in SAW:
        assert coverage[ref]["status"] == "answered"
        assert [(e["ref"], e["method"], e["judgment"]) for e in coverage[ref]["evidence"]] == [("WT1.v1", "WT", "met")]

    page = render_html("transcript", record_of(database_url, SAM))
    assert "<h2>Witnesses</h2>" in page and "Jo Smith" in page and "07700 900123" in page
    assert "<strong>Witness</strong>" in page
