"""Products of work and direct observation end to end, over the Bot API emulator with the real bot process: a photo
uploaded against a criterion (after the reminder to remove personal details), fingerprinted and submitted with the
unit; an observation recorded from the assessor's phone, typed and by voice, countersigned by the candidate; both in
coverage with their methods' codes. Forged presses change nothing. An NHS unit with no observation is never
signed off competent, and the assessor is told why."""

import hashlib

import pytest

from bot.documents import render_html, render_pdf
from tests.phone import Phone, add_assessor, buttons, enrolled, exported, html, invite, newest_with, press, record_of, wait_until

pytestmark = pytest.mark.slow
SAM, ANN, BOB = 802, 11, 12
PHOTO = b"\xff\xd8\xff a photo of the e-mail to the customer, names blacked out"
SEEN = "Listens to the customer's complaint without interrupting, then repeats it back to check."


def tick(phone: Phone, prefix: str, ref: str) -> None:
    """Tap the criterion `ref` on the newest list of criteria, and wait for its tick."""
    emulator = phone.emulator
    before = len(emulator.calls)
    message, data = newest_with(phone, prefix)
    emulator.press_button(phone.user_id, message["message_id"], f"{data.rsplit(':', 1)[0]}:{ref}")
    wait_until(lambda: any(c["method"] == "editMessageReplyMarkup" and f"☑️ {ref}" in str(c["params"])
                           for c in emulator.calls[before:]), what=f"{ref} ticked")


def forged(phone: Phone, data: str) -> str:
    """Press, on the presser's own newest message, a button that is not theirs to press: the reply they get."""
    before = len(phone.received)
    phone.emulator.press_button(phone.user_id, phone.received[-1]["message_id"], data)
    return phone.next_reply(before)["text"]


def test_a_product_and_a_countersigned_observation_appear_in_coverage(emulator, bot, database_url):
    sam = enrolled(emulator, bot, database_url, SAM)
    add_assessor(database_url, BOB)
    ann, bob = Phone(emulator, ANN, "Ann", "Assessor"), Phone(emulator, BOB, "Bob", "Assessor")
    assert "None of your candidates" in bob.send("/observe")["text"]
    wait_until(lambda: "observe" in [c["command"] for c in emulator.menu_for(ANN)], what="/observe in Ann's menu")
    assert "product" in [c["command"] for c in emulator.menu_for(SAM)]

    # The product: criteria chosen with buttons, the reminder to remove personal details, the photo with its line.
    listing = sam.send("/product")
    assert "PE1" in listing["text"] and any(d.startswith("prodcrit:") for d in buttons(listing))
    tick(sam, "prodcrit:", "310.1.4")
    press(sam, "prodfile:")
    assert "remove customers' personal details" in sam.received[-1]["text"]
    before = len(sam.received)
    emulator.post_photo(SAM, PHOTO, caption="The e-mail I sent the customer with the new delivery date")
    assert "PE1 is kept" in sam.next_reply(before)["text"]

    # It goes with the next submission: /review shows it, and the declaration covers it.
    sam.answer("We log every complaint on the CRM and the team leader reviews the log each week for repeats.")
    review = sam.send("/review")
    assert "PE1" in review["text"] and "The e-mail I sent the customer" in review["text"]
    assert not any(d.startswith("change:") and "PE1" in d for d in buttons(review))
    submit = next(d for d in buttons(review) if d.startswith("submit:"))
    declaration = sam.press(submit, on=review)
    assert "Submitted: 2 answers" in sam.press(buttons(declaration)[0], on=declaration)["text"]

    # Ann taps "Not yet" on an answer (so she is asked for feedback), then starts observing: what she sends while
    # the observation is recorded belongs to it, never to the feedback.
    queue = ann.send("/queue")
    first = ann.press(buttons(queue)[0], on=queue)
    assert "Type" in ann.press(next(d for d in buttons(first) if d.startswith("notyet:")), on=first)["text"]

    # The observation: the candidate, a criterion, where; then what Ann sees, typed and by voice; then Finish.
    menu = ann.send("/observe")
    assert "Sam Candidate (cg-310)" in str(menu["reply_markup"])
    press(ann, "obscand:")
    assert "O1" in ann.received[-1]["text"]
    choosing = ann.received[-1]
    tick(ann, "obscrit:", "310.1.1")
    assert "assessors only" in forged(sam, next(d for d in buttons(choosing) if d.startswith("obscrit:")))
    press(ann, "obsplace:")
    assert "Where are you observing" in ann.received[-1]["text"]
    assert "is recording" in ann.send("Customer service desk, Leeds store")["text"]
    kept = ann.send(SEEN)  # not taken for anything else: kept in the observation
    assert "Kept in O1" in kept["text"]
    before = len(ann.received)
    emulator.post_voice(ANN, b"OggS what Ann saw next", duration=9)
    assert "voice" in ann.next_reply(before)["text"]
    finish = next(d for d in buttons(kept) if d.startswith("obsend:"))
    assert "isn't one of your candidates'" in forged(bob, finish)  # another assessor's observation
    assert "assessors only" in forged(sam, finish)
    sam_before = len(sam.received)
    press(ann, "obsend:", wait_for=sam)
    record = wait_until(lambda: next((m for m in sam.received[sam_before:] if any(d.startswith("obsok:") for d in buttons(m))),
                                     None), what="the record to countersign")
    assert html(SEEN) in record["text"]
    assert "Customer service desk, Leeds store" in record["text"] and "voice 9 s" in record["text"]
    countersign = next(d for d in buttons(record) if d.startswith("obsok:"))
    assert "isn't one of your candidates'" in forged(bob, countersign)
    before = len(ann.received)
    assert "You've countersigned O1" in sam.press(countersign, on=record)["text"]
    assert "Sam Candidate countersigned O1" in ann.next_reply(before)["text"]
    queue = ann.send("/queue")
    assert queue["text"].count("Sam Candidate") == 2  # the unit submission, and the observation countersigned

    # Both in coverage with their methods' codes; the photo fingerprinted like any attachment.
    evidence = wait_until(lambda: (e := exported(database_url, SAM)["evidence"]) and all(
        (p["attachment"] or {}).get("sha256") for a in e["answers"] for p in a["parts"] if p["attachment"]) and e,
        timeout=30, what="the files fingerprinted")
    product = next(a for a in evidence["answers"] if a["ref"] == "PE1.v1")
    assert product["method"] == "PE" and product["submission"] and product["status"] == "complete"
    assert product["parts"][0]["attachment"]["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    observation = next(a for a in evidence["answers"] if a["ref"] == "O1.v1")
    assert observation["method"] == "O" and observation["submission"]
    assert [(p.get("author"), p["text"]) for p in observation["parts"]] == [("assessor", SEEN), ("assessor", None)]
    coverage = {c["ref"]: c for c in evidence["coverage"]}
    assert [(e["ref"], e["method"]) for e in coverage["310.1.4"]["evidence"]] == [("PE1.v1", "PE")]
    assert [(e["ref"], e["method"]) for e in coverage["310.1.1"]["evidence"]] == [("O1.v1", "O")]
    assert coverage["310.1.1"]["status"] == coverage["310.1.4"]["status"] == "answered"
    assert all(a["judgments"] == [] for a in evidence["answers"])  # no message was taken for feedback
    seen = evidence["observations"]
    assert [(o["ref"], o["place"], o["criteria"], o["status"]) for o in seen] == [
        ("O1", "Customer service desk, Leeds store", ["310.1.1"], "countersigned")
    ]
    assert seen[0]["observed_at"] and seen[0]["countersigned_at"]

    # The documents a verifier reads show both, with their methods.
    page = render_html("transcript", record_of(database_url, SAM))
    assert "PE1.v1" in page and "O1.v1" in page and html(SEEN) in page
    assert render_pdf("transcript", record_of(database_url, SAM)).startswith(b"%PDF")
    assert "<td>O1.v1</td><td>O</td>" in render_html("coverage", record_of(database_url, SAM))


def test_an_nhs_unit_with_no_observation_is_not_signed_off_competent_and_the_assessor_is_told_why(emulator, bot, database_url):
    add_assessor(database_url, ANN)
    code = invite(database_url, unit="nhs-cs")
    bot.start()
    sam, ann = Phone(emulator, SAM, "Sam", "Candidate"), Phone(emulator, ANN, "Ann", "Assessor")
    assert "Question 1 of" in sam.send(f"/start {code}")["text"]
    sam.answer("I check the patient's details, listen to what went wrong, log it on Datix and tell the ward manager.")
    review = sam.send("/review")
    declaration = sam.press(next(d for d in buttons(review) if d.startswith("submit:")), on=review)
    sam.press(buttons(declaration)[0], on=declaration)

    queue = ann.send("/queue")
    answer = ann.press(buttons(queue)[0], on=queue)
    met = next(d for d in buttons(answer) if d.startswith("met:"))
    ann.press(met, on=answer)
    all_judged = ann.wait_for("Sign off to record your decision")
    refused = ann.press(next(d for d in buttons(all_judged) if d.startswith("signoff:")), on=all_judged)["text"]
    assert "can't be signed off competent yet" in refused
    assert "Mandatory methods with no evidence met: DO, PD" in refused
    assert exported(database_url, SAM, "nhs-cs")["evidence"]["mandatory_methods"] == [
        {"kind": "observation", "code": "DO", "evidenced": False},
        {"kind": "professional_discussion", "code": "PD", "evidenced": False},
    ]
