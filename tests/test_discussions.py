"""A professional discussion end to end, over the Bot API emulator with the real bot process: planned by the
assessor, reminded, held live with messages and voice notes both ways, criteria referenced at the moment, a private
note, the bot killed mid-discussion, ended, confirmed by the candidate, exported and counted as PD."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.documents import render_html, render_pdf
from tests.phone import Phone, buttons, enrolled, exported, newest_with, press, record_of, wait_until

pytestmark = pytest.mark.slow
SAM, ANN = 801, 11  # enrolled() makes Ann (Telegram id 11) Sam's assessor
PLAN = ("310.1.1", "310.1.4", "310.2.1")
NOTE = "Good real example; probe timescales next time."


def said(phone: Phone, text: str, to: Phone) -> dict:
    """Send a message in the discussion and wait for its copy at the other end."""
    before = len(to.received)
    phone.post(text)
    return wait_until(lambda: next((m for m in to.received[before:] if text in m.get("text", "")), None),
                      what=f"{text!r} relayed")


def voice(phone: Phone, to: Phone) -> dict:
    """A voice note, relayed as a copy (after a line naming who speaks)."""
    before = len(to.received)
    phone.emulator.post_voice(phone.user_id, b"OggS voice of " + str(phone.user_id).encode(), duration=7)
    return wait_until(lambda: next((m for m in to.received[before:] if "voice" in m), None), what="a voice note relayed")


def test_a_discussion_planned_held_through_a_kill_confirmed_exported_and_counted(emulator, bot, database_url):
    bot.env["NVQBOT_REMINDER_SWEEP_SECONDS"] = "1"
    sam = enrolled(emulator, bot, database_url, SAM)
    ann = Phone(emulator, ANN, "Ann", "Assessor")

    # Plan: the candidate, three criteria, a time half an hour away (so both are reminded straight away).
    menu = ann.send("/pd")
    assert "Plan with Sam Candidate" in str(menu["reply_markup"])
    press(ann, "pdplan:")
    assert "310.1.1" in ann.received[-1]["text"]
    for ref in PLAN:
        edits = sum(c["method"] == "editMessageReplyMarkup" for c in emulator.calls)
        message, data = newest_with(ann, "pdcrit:")
        emulator.press_button(ANN, message["message_id"], data.rsplit(":", 1)[0] + f":{ref}")
        wait_until(lambda n=edits: sum(c["method"] == "editMessageReplyMarkup" for c in emulator.calls) > n, what="a tick")
    planning, _ = newest_with(ann, "pdcrit:")
    labels = [b["text"] for row in planning["reply_markup"]["inline_keyboard"] for b in row]
    assert len(labels) == 28 + 2 and [label for label in labels if label.startswith("☑️")] == [f"☑️ {r}" for r in PLAN]
    press(ann, "pdtime:")
    when = datetime.now(ZoneInfo("Europe/London")) + timedelta(minutes=30)
    sam_before = len(sam.received)
    ann.send(when.strftime("%Y-%m-%d %H:%M"))
    plan = wait_until(lambda: next((m for m in sam.received[sam_before:] if "Professional discussion with" in m["text"]), None),
                      what="the plan")["text"]
    assert all(bank_words in plan for bank_words in ("keep customers informed", "Don't name anyone"))
    wait_until(lambda: any("⏰" in m.get("text", "") for m in sam.received), what="the candidate's reminder")
    wait_until(lambda: any("⏰" in m.get("text", "") for m in ann.received), what="the assessor's reminder")

    # Live: messages and voice notes both ways; criteria referenced at two of Sam's messages; a private note.
    press(ann, "pdstart:", wait_for=sam)
    assert "has started your professional discussion" in sam.received[-1]["text"]
    first = said(sam, "Last week a delivery was missed, so I rang the depot and found the van had broken down.", ann)
    assert [d.rsplit(":", 1)[1] for d in buttons(first) if d.startswith("pdref:")] == list(PLAN)
    said(ann, "What did you tell the customer, and when?", sam)
    copy = voice(sam, ann)
    assert any(d.startswith("pdref:") for d in buttons(copy))
    voice(ann, sam)

    before = len(emulator.calls)
    emulator.press_button(ANN, first["message_id"], next(d for d in buttons(first) if d.endswith(":310.1.1")))
    edited = wait_until(lambda: next((c for c in emulator.calls[before:] if c["method"] == "editMessageReplyMarkup"), None),
                        what="the reference shown")
    assert "✅ 310.1.1" in str(edited["params"])
    emulator.press_button(ANN, copy["message_id"], next(d for d in buttons(copy) if d.endswith(":310.1.4")))
    assert "Note kept" in ann.send(f"/note {NOTE}")["text"]

    # A forged press: Sam pressing the assessor's referencing button changes nothing.
    forged = next(d for d in buttons(first) if d.endswith(":310.2.1"))
    sam_before = len(sam.received)
    emulator.press_button(SAM, sam.received[-1]["message_id"], forged)
    assert "assessors only" in sam.next_reply(sam_before)["text"]

    # Killed mid-discussion: nothing is lost, and it carries on after the restart.
    bot.kill()
    sam.post("After that I phoned the customer every morning until it came.")
    bot.start()
    wait_until(lambda: any("phoned the customer every morning" in m.get("text", "") for m in ann.received),
               timeout=30, what="the message sent while the bot was down, relayed")
    said(ann, "Thank you, that is all I need.", sam)

    # End; Sam confirms the record (which never shows the private note).
    press(ann, "pdend:", wait_for=sam)
    record = wait_until(lambda: next((m for m in sam.received if "true record" in m.get("text", "")
                                      and any(d.startswith("pdok:") for d in buttons(m))), None), what="the record")
    assert "rang the depot" in record["text"] and "[310.1.1]" in record["text"]
    assert all(NOTE not in m.get("text", "") for m in sam.received)
    press(sam, "pdok:")
    ann.wait_for("confirmed the record of PD1")

    def discussion_record():
        return next(a for a in exported(database_url, SAM)["evidence"]["answers"] if a["ref"] == "PD1.v1")

    # Voice notes are fetched and fingerprinted like every attachment, and shown with their duration.
    wait_until(lambda: all(p["attachment"]["sha256"] for p in discussion_record()["parts"] if p["attachment"]),
               what="the voice notes fingerprinted")
    evidence = exported(database_url, SAM)["evidence"]
    pd = next(a for a in evidence["answers"] if a["ref"] == "PD1.v1")
    assert {p["attachment"]["duration"] for p in pd["parts"] if p["attachment"]} == {7}
    assert pd["method"] == "PD" and pd["submission"] and pd["status"] == "complete"
    parts = [(p.get("author", "candidate"), p.get("private", False), p["text"], [r["ref"] for r in p.get("referenced", [])],
              (p["attachment"] or {}).get("kind")) for p in pd["parts"]]
    assert parts == [
        ("candidate", False, "Last week a delivery was missed, so I rang the depot and found the van had broken down.", ["310.1.1"], None),
        ("assessor", False, "What did you tell the customer, and when?", [], None),
        ("candidate", False, None, ["310.1.4"], "voice"),
        ("assessor", False, None, [], "voice"),
        ("assessor", True, NOTE, [], None),
        ("candidate", False, "After that I phoned the customer every morning until it came.", [], None),
        ("assessor", False, "Thank you, that is all I need.", [], None),
    ]
    assert [c["ref"] for c in pd["criteria"]] == ["310.1.1", "310.1.4"]
    assert evidence["discussions"][0]["ref"] == "PD1" and evidence["discussions"][0]["planned_criteria"] == list(PLAN)
    coverage = {c["ref"]: c for c in evidence["coverage"]}
    for ref in ("310.1.1", "310.1.4"):
        assert coverage[ref]["status"] == "answered"
        assert [(e["ref"], e["method"]) for e in coverage[ref]["evidence"]] == [("PD1.v1", "PD")]
    assert coverage["310.2.1"]["status"] == "missing"

    # The documents a verifier reads: who said each thing, the references at it, the note marked as such.
    page = render_html("transcript", record_of(database_url, SAM))
    assert "Professional discussions" in page and "Referenced here:</strong> 310.1.1" in page
    assert "Assessor's note</strong> (kept in the record, not shown to the candidate)" in page
    assert render_pdf("transcript", record_of(database_url, SAM)).startswith(b"%PDF")
    index = render_html("coverage", record_of(database_url, SAM))
    assert "PD1.v1 · PD" in index and "<td>PD1.v1</td><td>PD</td>" in index
