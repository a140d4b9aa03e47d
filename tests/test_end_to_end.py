"""The whole stack over the wire: the real bot process, PTB's HTTP client, the Bot API emulator, a database."""

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from bot.domain.assessment import Assessment
from bot.domain.sittings import Person
from bot.storage.db import transaction
from bot.storage.models import AnswerPart, Candidate, Enrolment, InboundUpdate, QuestionRun
from bot.storage.repository import Repository
from tests.phone import Phone, add_assessor, exported, html, invite, wait_until

pytestmark = pytest.mark.slow
SAM = 501
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)

SECOND_ANSWER = "Our team leader reviews the complaints log every Monday and we record repeated problems on the system."


def knowledge_questions(banks, unit: str):
    return [q for question_set in banks.unit(unit).knowledge_sets for q in question_set.questions]




def count_rows(engine, model) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_invite_start_answers_and_export_surviving_a_kill(emulator, bot, database_url, engine, banks):
    add_assessor(database_url)
    code = invite(database_url)
    questions = knowledge_questions(banks, "cg-310")
    total = len(questions)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")

    welcome = sam.send(f"/start {code}")["text"]
    assert f"Question 1 of {total} · 310.4.1" in welcome and "Monitor and solve customer service problems" in welcome
    sam.answer("We log it on the CRM and follow the complaints procedure, then tell the customer what happens next.")
    sam.post(SECOND_ANSWER)
    # Killed straight after the answer's message reached the emulator: it must not be lost.
    bot.kill()

    # Replies are sent at least once: one whose sending the kill interrupted may come twice.
    bot.start()
    wait_until(lambda: any("Got it" in t for t in sam.texts()[2:]), what="the message taken before the kill")
    sam.press("done")
    wait_until(lambda: sam.shows(questions[2].text), what="question 3")
    for question in questions[2:]:
        assert sam.shows(question.text)
        sam.answer(f"Customers come back when we sort things out <quickly> & fairly. {FULL_ANSWER}")
    assert "send /case" in sam.received[-1]["text"]

    transcript = exported(database_url, SAM)["evidence"]
    answers = transcript["answers"]
    assert [{c["ref"] for c in a["criteria"]} for a in answers] == [set(q.criteria) for q in questions]
    assert answers[1]["answer"] == SECOND_ANSWER
    assert answers[2]["answer"].startswith("Customers come back when we sort things out <quickly> & fairly.")
    assert all(a["version"] == 1 and a["status"] == "complete" and a["completed_at"] for a in answers)
    assert transcript["candidate"]["name"] == "Sam Candidate"


def test_whole_knowledge_sets_of_f6_and_310_export_with_mapped_criteria(emulator, bot, database_url, engine, banks):
    add_assessor(database_url)
    bot.start()
    for unit, user_id in {"edexcel-f6": 601, "cg-310": 602}.items():
        phone = Phone(emulator, user_id)
        phone.send(f"/start {invite(database_url, unit)}")
        questions = knowledge_questions(banks, unit)
        for number, question in enumerate(questions, 1):
            assert phone.shows(question.text), f"{unit} question {number}"
            phone.answer(f"{unit} answer {number}: {FULL_ANSWER}")
        assert "send /case" in phone.received[-1]["text"]

        answers = exported(database_url, user_id, unit)["evidence"]["answers"]
        assert [a["answer"] for a in answers] == [f"{unit} answer {n}: {FULL_ANSWER}" for n in range(1, len(questions) + 1)]
        for answer, question in zip(answers, questions):
            assert {c["ref"] for c in answer["criteria"]} == set(question.criteria)
            expected = {(c.target.unit, c.target.ref) for ref in question.criteria for c in banks.credits_from(unit, ref)}
            assert {(m["unit"], m["ref"]) for m in answer["credits"]} == expected
    f6_answers = exported(database_url, 601, "edexcel-f6")["evidence"]["answers"]
    on_item_10 = next(a for a in f6_answers if ("edexcel-f6", "10") in [(c["unit"], c["ref"]) for c in a["criteria"]])
    assert {"cg-310:310.4.1", "ics-nos:K1", "nhs-cs:K1"} <= {f"{m['unit']}:{m['ref']}" for m in on_item_10["credits"]}


def test_what_a_person_typed_is_shown_literally(emulator, bot, database_url):
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    welcome = Phone(emulator, SAM, "<i>Sam</i> & co").send(f"/start {code}")
    assert "Welcome, &lt;i&gt;Sam&lt;/i&gt; &amp; co." in welcome["text"]


@pytest.mark.parametrize(
    "start, expected",
    [
        ("/start", "open the invite link"),
        ("/start abc", "doesn't look right"),
        ("/start AAAAAAAAAAAAAAAA", "don't recognise"),
        ("hello there", "not enrolled"),
        ("/frobnicate", "don't know that command"),
        ("/review", "not enrolled"),
        ("/case", "no real cases for you to describe"),
        ("/pd", "no real cases for you to describe"),  # what candidates used to send: the case menu still
    ],
)
def test_strangers_get_a_clear_reply_and_create_nothing(emulator, bot, database_url, engine, start, expected):
    add_assessor(database_url)
    invite(database_url)
    bot.start()
    assert expected in Phone(emulator, 777).send(start)["text"]
    assert count_rows(engine, Candidate) == 0 and count_rows(engine, Enrolment) == 0


def test_a_used_code_is_refused(emulator, bot, database_url, engine):
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    Phone(emulator, SAM).send(f"/start {code}")
    assert "already been used" in Phone(emulator, 777).send(f"/start {code}")["text"]
    assert count_rows(engine, Candidate) == 1


def test_a_4000_character_answer_is_kept_whole(emulator, bot, database_url, engine):
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam = Phone(emulator, SAM)
    sam.send(f"/start {code}")
    long_answer = ("We follow the complaints procedure and record it on the system. " * 70)[:4000]
    assert "Got it" in sam.send(long_answer)["text"]
    assert "Question 2 of" in sam.press("done")["text"]
    with transaction(engine) as session:
        assert session.exec(select(AnswerPart.text)).one() == long_answer


def test_two_hundred_answers_at_once_survive_a_kill_and_are_stored_exactly_once(emulator, bot, database_url, engine, banks):
    people = [Person(user_id=10_000 + n, chat_id=10_000 + n, name=f"Candidate {n}") for n in range(200)]
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(11, "Ann Assessor")
        for person in people:
            code = assessment.create_invite("cg-310", 11, date.today() + timedelta(days=30)).code
            assessment.redeem_invite(person, code)
    bot.start()
    for person in people:
        emulator.post_message(person.user_id, f"My answer, from {person.name}.")

    wait_until(lambda: count_rows(engine, AnswerPart) >= 20, what="the bot to work through some answers")
    bot.kill()
    stored_at_kill = count_rows(engine, AnswerPart)
    assert stored_at_kill < 200, "the kill came too late to prove anything"

    bot.start()
    wait_until(lambda: count_rows(engine, AnswerPart) == 200, timeout=60, what="all 200 answers")
    with transaction(engine) as session:
        per_candidate = session.exec(select(AnswerPart.chat_id, func.count()).group_by(AnswerPart.chat_id)).all()
        unprocessed = session.exec(select(func.count()).where(InboundUpdate.processed_at.is_(None))).one()
    assert sorted(chat for chat, _ in per_candidate) == [p.chat_id for p in people]
    assert all(n == 1 for _, n in per_candidate)
    assert unprocessed == 0
    for person in people:
        assert "Got it" in emulator.wait_for_messages(person.chat_id, 1)[-1]["text"]


def test_a_forged_button_changes_nothing(emulator, bot, database_url, engine):
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam = Phone(emulator, SAM)
    welcome = sam.send(f"/start {code}")
    forgeries = ["case:9999:customer-raised", "case:1:no-such-case", "pd:9999:customer-raised", "pd:1:no-such-case",
                 "change:9999", "confirm:9999", "submit:1", "junk"]
    for forged in forgeries:
        before = len(sam.received)
        emulator.press_button(SAM, welcome["message_id"], forged)
        reply = sam.next_reply(before)["text"]
        refusals = ["isn't one I can act on", "nothing new to submit", "don't know that kind of case"]
        assert any(refusal in reply for refusal in refusals), (forged, reply)
    assert len(emulator.callback_answers) == len(forgeries)
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(QuestionRun)).one() == 1
    assert html("Question 1 of") in sam.press("again")["text"]


def test_a_candidate_who_blocked_the_bot_and_writes_again_is_reachable_again(emulator, bot, database_url, engine):
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam = Phone(emulator, SAM)
    sam.send(f"/start {code}")
    with transaction(engine) as session:  # a reminder to Sam was refused with 403 earlier
        candidate = Repository(session).candidate_by_telegram_id(SAM)
        candidate.unreachable_at = candidate.created_at
        session.add(candidate)
    sam.send("We log every complaint on the CRM.")
    with transaction(engine) as session:
        assert Repository(session).candidate_by_telegram_id(SAM).unreachable_at is None
