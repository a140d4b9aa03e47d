"""The candidate's side end to end, over the emulator: sittings, probes, PD, attachments, edits, review and submission."""

import hashlib
import json
from importlib.resources import files

import pytest
import yaml
from sqlmodel import select

from bot.domain import probing
from bot.rendering import command_menu
from bot.settings import PROJECT_ROOT
from bot.storage.db import transaction
from bot.storage.models import Attachment
from tests.phone import PROBE_MARK, Phone, enrolled, exported, html, wait_until

pytestmark = pytest.mark.slow
SAM = 501
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)


@pytest.fixture
def sam(emulator, bot, database_url) -> Phone:
    return enrolled(emulator, bot, database_url, SAM)


def answers(database_url: str) -> list[dict]:
    return exported(database_url, SAM)["evidence"]["answers"]


def test_the_command_menu_is_registered(sam, emulator):
    names = [c["command"] for c in emulator.menu_for(SAM)]
    assert names == list(command_menu()) and names[:4] == ["start", "continue", "units", "case"] and "pd" not in names


def test_a_sitting_split_across_a_bot_restart_carries_on_where_it_was(sam, bot, database_url, banks):
    sam.answer(FULL_ANSWER)
    sam.send("We look at the complaints log")
    assert "Paused" in sam.send("/cancel")["text"]
    assert "not answering a question right now" in sam.send("hello?")["text"]
    bot.kill()
    bot.start()
    resumed = sam.send("/continue")["text"]
    second = banks.unit("cg-310").knowledge_sets[0].questions[1]
    assert "Welcome back" in resumed and html(second.text) in resumed
    assert "already sent 1 message" in resumed
    sam.send("every Monday with the team leader, and we spot the problems that repeat and tell the manager.")
    assert "Question 3 of" in sam.press("done")["text"]
    assert answers(database_url)[1]["answer"] == (
        "We look at the complaints log every Monday with the team leader, and we spot the problems that repeat"
        " and tell the manager."
    )


def test_a_three_message_answer_is_one_answer(sam, database_url):
    replies = [sam.send(text)["text"] for text in [
        "When a customer complains I listen and apologise,",
        "then I record it on the CRM system following our complaints procedure,",
        "and I tell the customer what happens next and when the team leader will call.",
    ]]
    assert "3 messages so far" in replies[2]
    sam.press("done")
    first = answers(database_url)[0]
    assert len(first["parts"]) == 3
    assert first["answer"].startswith("When a customer complains I listen and apologise, then I record it")


def test_thin_replies_climb_the_probe_ladder_and_the_pending_probe_comes_back(sam, database_url, banks):
    first = banks.unit("cg-310").knowledge_sets[0].questions[0]
    assert len(first.probes) >= 2
    sam.send("I sort it.")
    probed = sam.press("done")["text"]
    one = next(p for p in first.probes if html(p.text) in probed)
    assert set(one.aims) - probing.covered(first, "I sort it.")  # aimed at a look-for the answer misses
    sam.send("Not sure.")  # a second thin reply
    again = sam.press("done")["text"]
    two = next(p for p in first.probes if html(p.text) in again)
    assert two != one and "One more thing" in again
    assert html(two.text) in sam.send("/continue")["text"]  # the pending probe is shown again
    sam.send("We log it on the CRM and my supervisor reads it every week.")
    while "Question 2 of" not in (reply := sam.press("done"))["text"]:
        assert PROBE_MARK in reply["text"]
    answer = answers(database_url)[0]
    assert [p["text"] for p in answer["probes"]][:2] == [one.text, two.text]
    assert answer["answer"] == "I sort it." and answer["probes"][0]["reply"] == "Not sure."


def test_a_full_answer_in_other_words_gets_no_probe_and_skip_says_skipped(sam, banks):
    first = banks.unit("cg-310").knowledge_sets[0].questions[0]
    labelled = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "probing" / "answers.yaml").read_text(encoding="utf-8"))
    full = next(a["text"] for a in labelled["answers"] if a["question"] == first.id and a["label"] == "full"
                and probing.sufficient(first, a["text"]))
    sam.send(full)
    assert "Question 2 of" in sam.press("done")["text"]
    assert "Skipped for now" in sam.press("skip")["text"]


def test_a_voice_note_is_kept_with_its_sha256(sam, emulator, engine, database_url):
    recording = b"OggS fake voice note " * 200
    before = len(sam.received)
    emulator.post_voice(SAM, recording, duration=14)
    assert "Got it" in sam.next_reply(before)["text"]
    stored = wait_until(lambda: _fetched_attachment(engine), what="the voice note to be fetched")
    assert stored.sha256 == hashlib.sha256(recording).hexdigest()
    assert (stored.kind, stored.duration, stored.file_size) == ("voice", 14, len(recording))
    sam.press("done")
    part = answers(database_url)[0]["parts"][0]
    assert part["attachment"]["sha256"] == hashlib.sha256(recording).hexdigest()


def _fetched_attachment(engine):
    with transaction(engine) as session:
        return session.exec(select(Attachment).where(Attachment.sha256.is_not(None))).first()


def test_stickers_and_locations_are_refused_politely(sam, emulator, database_url):
    for post in (lambda: emulator.post_sticker(SAM), lambda: emulator.post_location(SAM, 51.5, -0.1)):
        before = len(sam.received)
        post()
        assert "answer in words or a voice note" in sam.next_reply(before)["text"]
    assert answers(database_url) == []


def test_an_edited_message_makes_a_new_version(sam, emulator, database_url):
    sent = sam.post(FULL_ANSWER)
    sam.next_reply(1)
    sam.press("done")
    before = len(sam.received)
    emulator.edit_message(SAM, sent["message"]["message_id"], FULL_ANSWER.replace("CRM system", "Zendesk system"))
    assert "version 2" in sam.next_reply(before)["text"]
    versions = [a for a in answers(database_url) if a["question_id"] == answers(database_url)[0]["question_id"]]
    assert [v["version"] for v in versions] == [1, 2]
    assert "CRM system" in versions[0]["answer"] and "Zendesk system" in versions[1]["answer"]


def test_a_pd_case_is_recorded_against_its_criteria(sam, database_url, banks):
    menu = sam.send("/case")
    cases = banks.unit("cg-310").pd_cases
    assert [row[0]["text"] for row in menu["reply_markup"]["inline_keyboard"]] == [c.case_type for c in cases]
    assert not any(html(c.case_type) in menu["text"] for c in cases)  # offered once: as buttons, not in the text too
    case = cases[2]
    started = sam.press(menu["reply_markup"]["inline_keyboard"][2][0]["callback_data"], on=menu)
    assert html(case.case_type) in started["text"] and html(case.parts[0].prompt) in started["text"]
    for number, part in enumerate(case.parts, 1):
        assert sam.shows(part.prompt), f"part {number}"
        sam.answer(f"Part {number} of my real case: {FULL_ANSWER}")
    assert f"everything for <b>{html(case.case_type)}</b>" in sam.received[-1]["text"]
    assert "Question 1 of" in sam.received[-1]["text"]  # back to the question left for the case
    pd_answers = [a for a in answers(database_url) if a["question_set"].startswith("pd:")]
    assert [{c["ref"] for c in a["criteria"]} for a in pd_answers] == [set(p.criteria) for p in case.parts]
    units = sam.send("/units")["text"]
    assert html(case.case_type) not in units and html(cases[0].case_type) in units
    menu = sam.send("/case")
    assert f"✅ {html(case.case_type)}" in menu["text"]  # described: named once, with no button
    assert case.case_type not in [row[0]["text"] for row in menu["reply_markup"]["inline_keyboard"]]


TEMPLATES = files("bot").joinpath("templates/telegram")
CASE_TEXTS = ["case_menu.html", "prompt.html", "_question.html", "answer_saved.html", "help.html", "nothing_open.html",
              "refused.html", "reminder.html", "start_without_code.html", "units.html"]


def calls_a_case_a_discussion(text: str) -> bool:
    """Whether a text calls the candidate's case walk-through a professional discussion (or /pd, the assessor's
    command for one); saying that the assessor may use the case to plan one is allowed."""
    text = text.lower().replace("plan a professional discussion with you", "")
    return "/pd" in text or "professional discussion" in text


def test_the_case_menu_and_its_texts_never_call_a_case_a_professional_discussion(sam, emulator, banks):
    menu = sam.send("/case")
    assert "your own account of the case" in menu["text"]
    assert "Describe a real case from your work" in [c["description"] for c in emulator.menu_for(SAM)]
    enrolment, case_id = menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1:]
    # A case button sent before /case carried "pd:": it still starts the case.
    started = sam.press(f"pd:{enrolment}:{case_id}", on=menu)
    assert html(banks.unit("cg-310").pd_case(case_id).parts[0].prompt) in started["text"]
    unknown = sam.press(f"case:{enrolment}:no-such-case", on=menu)
    assert "/case" in unknown["text"]
    texts = [menu, started, unknown, sam.send("/help"), sam.send("/units"), sam.send("/case")]
    assert not [t["text"] for t in texts if calls_a_case_a_discussion(t["text"])]
    assert not [c for c in emulator.menu_for(SAM) if calls_a_case_a_discussion(c["description"])]
    # and the candidate's texts about cases not shown above (after the last question, reminders, refusals…)
    assert not [name for name in CASE_TEXTS if calls_a_case_a_discussion(TEMPLATES.joinpath(name).read_text("utf-8"))]


def test_review_reanswer_declaration_and_submission_then_nothing_changes(sam, emulator, database_url, banks):
    first = sam.post(FULL_ANSWER)
    sam.next_reply(1)
    sam.press("done")
    sam.answer("Second answer: " + FULL_ANSWER)
    review = sam.send("/review")
    shorts = [q.short for q in banks.unit("cg-310").knowledge_sets[0].questions[:2]]
    assert f"<b>Q1</b> {html(shorts[0])} (310.4.1)" in review["text"]
    assert f"<b>Q2</b> {html(shorts[1])} (310.4.2)" in review["text"]
    assert "Question 1 of" in sam.press(_data(review, "✏️ Q1"), on=review)["text"]
    sam.answer("A better first answer: " + FULL_ANSWER)
    review = sam.send("/review")
    assert ", version 2" in review["text"]
    declaration = sam.press(_data(review, "📨 Submit for assessment"), on=review)
    assert html(banks.unit("cg-310").unit.declarations.candidate.text) in declaration["text"]
    assert "still unanswered" in declaration["text"]
    assert "haven't saved that message as an answer" in sam.send("hang on, one more thing")["text"]
    back = sam.press(_data(declaration, "↩️ Not yet, go back"), on=declaration)
    assert f"<b>Q1</b> {html(shorts[0])} (310.4.1), version 2" in back["text"]
    declaration = sam.press(_data(back, "📨 Submit for assessment"), on=back)
    submitted = sam.press(_data(declaration, "✍️ I confirm"), on=declaration)
    assert "Submitted: 2 answers" in submitted["text"] and "still to answer" in submitted["text"]

    locked = sam.send("/review")
    assert "🔒" in locked["text"] and (locked.get("reply_markup") is None or not locked["reply_markup"]["inline_keyboard"])
    assert "can't be changed" in sam.press(_data(review, "✏️ Q1"), on=review)["text"]
    before = len(sam.received)
    emulator.edit_message(SAM, first["message"]["message_id"], "changed after submission")
    assert "hasn't changed" in sam.next_reply(before)["text"] or "already been submitted" in sam.received[-1]["text"]
    exported = answers(database_url)
    assert all(a["submission"] for a in exported if a["status"] == "complete" and a["version"] == max(
        b["version"] for b in exported if b["question_id"] == a["question_id"]))
    assert "changed after submission" not in json.dumps(exported)


def _data(message: dict, label: str) -> str:
    buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
    return next(b["callback_data"] for b in buttons if b["text"] == label)


def test_help_units_and_reminders(sam):
    assert "/continue" in sam.send("/help")["text"]
    units = sam.send("/units")["text"]
    assert "0 of 4 knowledge points answered" in units and "due 31 Dec 2099" in units
    paused = sam.send("/reminders")
    assert "Reminders are on" in paused["text"]
    assert "now paused" in sam.press("rpause", on=paused)["text"]
