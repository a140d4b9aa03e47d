"""The whole stack over the wire: the real bot process, PTB's HTTP client, the Bot API emulator, a database."""

import json
import re
import time
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlmodel import func, select

from bot.devtools.emulator import EmulatorThread
from bot.domain.assessment import Assessment, Person
from bot.storage.db import transaction
from bot.storage.models import Answer, Candidate, Enrolment, InboundUpdate, QuestionRun
from bot.storage.repository import Repository
from tests.botprocess import BotProcess, nvqbot

pytestmark = pytest.mark.slow
DEADLINE = (date.today() + timedelta(days=30)).isoformat()
SAM = 501


@pytest.fixture
def emulator():
    with EmulatorThread() as emulator:
        yield emulator


@pytest.fixture
def bot(emulator, database_url, engine, tmp_path):
    process = BotProcess(emulator, database_url, tmp_path / "bot.log")
    yield process
    process.stop()


def invite_code(database_url: str) -> str:
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", "11", "--name", "Ann Assessor").returncode == 0
    made = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", DEADLINE)
    assert made.returncode == 0, made.stderr
    return re.search(r"Invite code: (\S+)", made.stdout).group(1)


def texts(emulator, chat_id: int) -> list[str]:
    return [message["text"] for message in emulator.sent_messages(chat_id)]


def count_rows(engine, model) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def asked(emulator, chat_id: int, text: str) -> bool:
    """Whether the bot's latest message in the chat shows this text (as Telegram HTML)."""
    sent = texts(emulator, chat_id)
    return bool(sent) and str(escape(text)) in sent[-1]


def wait_for_text(emulator, chat_id: int, fragment: str) -> None:
    wait_until(lambda: any(fragment in text for text in texts(emulator, chat_id)), what=repr(fragment))


def wait_until(condition, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


def knowledge_questions(banks, unit: str):
    return [q for question_set in banks.unit(unit).knowledge_sets for q in question_set.questions]


def invite_for(database_url: str, unit: str) -> str:
    made = nvqbot(database_url, "invite", "--unit", unit, "--assessor", "11", "--deadline", DEADLINE)
    assert made.returncode == 0, made.stderr
    return re.search(r"Invite code: (\S+)", made.stdout).group(1)


def export(database_url: str, candidate: int) -> dict:
    exported = nvqbot(database_url, "export", "--candidate", str(candidate), "--format", "json")
    assert exported.returncode == 0, exported.stderr
    return json.loads(exported.stdout)


def test_invite_start_answers_and_export_surviving_a_kill(emulator, bot, database_url, engine, banks):
    code = invite_code(database_url)
    questions = knowledge_questions(banks, "cg-310")
    total = len(questions)
    bot.start()

    emulator.post_message(SAM, f"/start {code}", first_name="Sam", last_name="Candidate")
    welcome = emulator.wait_for_messages(SAM, 1)[0]["text"]
    assert f"Question 1 of {total} · 310.4.1" in welcome and "Monitor and solve customer service problems" in welcome

    emulator.post_message(SAM, "We log it on the CRM and follow the complaints procedure.")
    emulator.wait_for_messages(SAM, 2)
    emulator.post_message(SAM, "Our team leader reviews the log every Monday.")
    # Killed straight after the second answer reached the emulator: it must not be lost.
    bot.kill()
    assert count_rows(engine, Answer) <= 2

    # Replies are sent at least once: one whose sending the kill interrupted may come twice.
    bot.start()
    wait_for_text(emulator, SAM, f"Question 3 of {total} · 310.4.3")
    emulator.post_message(SAM, "Customers come back when we sort things out <quickly> & fairly.")
    for number in range(4, total + 1):
        wait_for_text(emulator, SAM, f"Question {number} of {total}")
        emulator.post_message(SAM, f"Answer number {number}.")
    wait_for_text(emulator, SAM, "send /pd")

    transcript = export(database_url, SAM)
    answers = transcript["units"][0]["answers"]
    assert [{c["ref"] for c in a["criteria"]} for a in answers] == [set(q.criteria) for q in questions]
    assert answers[1]["answer"] == "Our team leader reviews the log every Monday."
    assert answers[2]["answer"] == "Customers come back when we sort things out <quickly> & fairly."
    assert all(a["version"] == 1 and a["sent_at"] and a["recorded_at"] for a in answers)
    assert transcript["candidate"]["name"] == "Sam Candidate"


def test_whole_knowledge_sets_of_f6_and_310_export_with_mapped_criteria(emulator, bot, database_url, engine, banks):
    invite_code(database_url)
    people = {"edexcel-f6": 601, "cg-310": 602}
    bot.start()
    for unit, person in people.items():
        emulator.post_message(person, f"/start {invite_for(database_url, unit)}")
        questions = knowledge_questions(banks, unit)
        for number, question in enumerate(questions, 1):
            wait_until(lambda: asked(emulator, person, question.text), what=f"{unit} question {number}")
            emulator.post_message(person, f"{unit} answer {number}")
        wait_for_text(emulator, person, "send /pd")

        answers = export(database_url, person)["units"][0]["answers"]
        assert [a["answer"] for a in answers] == [f"{unit} answer {n}" for n in range(1, len(questions) + 1)]
        for answer, question in zip(answers, questions):
            assert {c["ref"] for c in answer["criteria"]} == set(question.criteria)
            expected_mapped = {(k.unit, k.ref) for ref in question.criteria for k in banks.equivalents(unit, ref)}
            assert {(m["unit"], m["ref"]) for m in answer["mapped_criteria"]} == expected_mapped
    f6_answers = export(database_url, people["edexcel-f6"])["units"][0]["answers"]
    on_item_10 = next(a for a in f6_answers if {"unit": "edexcel-f6", "ref": "10"} in [
        {"unit": c["unit"], "ref": c["ref"]} for c in a["criteria"]])
    assert {"cg-310:310.4.1", "ocr-c3:4.1", "ics-nos:K1", "nhs-cs:K1"} <= {
        f"{m['unit']}:{m['ref']}" for m in on_item_10["mapped_criteria"]}


def test_a_pd_case_chosen_by_button_is_recorded_against_its_criteria(emulator, bot, database_url, engine, banks):
    code = invite_code(database_url)
    bot.start()
    emulator.post_message(SAM, f"/start {code}")
    emulator.wait_for_messages(SAM, 1)
    emulator.post_message(SAM, "/pd")
    menu = emulator.wait_for_messages(SAM, 2)[-1]
    buttons = [row[0] for row in menu["reply_markup"]["inline_keyboard"]]
    cases = banks.unit("cg-310").pd_cases
    assert [b["text"] for b in buttons] == [c.case_type for c in cases]

    case = cases[1]
    emulator.press_button(SAM, menu["message_id"], buttons[1]["callback_data"])
    for number, part in enumerate(case.parts, 1):
        wait_until(lambda: asked(emulator, SAM, part.prompt), what=f"PD part {number}")
        emulator.post_message(SAM, f"In my case, part {number}.")
    # After the case, the candidate is taken back to the knowledge question they left.
    wait_for_text(emulator, SAM, f"everything for <b>{escape(case.case_type)}</b>")
    assert "Question 1 of" in texts(emulator, SAM)[-1]

    pd_answers = [a for a in export(database_url, SAM)["units"][0]["answers"] if a["method"] == "PD"]
    assert [a["answer"] for a in pd_answers] == [f"In my case, part {n}." for n in range(1, len(case.parts) + 1)]
    assert [{c["ref"] for c in a["criteria"]} for a in pd_answers] == [set(p.criteria) for p in case.parts]


def test_a_forged_pd_button_changes_nothing(emulator, bot, database_url, engine):
    code = invite_code(database_url)
    bot.start()
    emulator.post_message(SAM, f"/start {code}")
    welcome = emulator.wait_for_messages(SAM, 1)[0]
    for forged in ["pd:9999:customer-raised", "pd:1:no-such-case", "junk"]:
        emulator.press_button(SAM, welcome["message_id"], forged)
    replies = emulator.wait_for_messages(SAM, 4)[1:]
    assert all("isn't one I can act on" in r["text"] for r in replies)
    assert len(emulator.callback_answers) == 3
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(QuestionRun)).one() == 1


def test_what_a_person_typed_is_shown_literally(emulator, bot, database_url, engine):
    code = invite_code(database_url)
    bot.start()
    emulator.post_message(SAM, f"/start {code}", first_name="<i>Sam</i> & co")
    welcome = emulator.wait_for_messages(SAM, 1)[0]["text"]
    assert "Welcome, &lt;i&gt;Sam&lt;/i&gt; &amp; co." in welcome


@pytest.mark.parametrize(
    "start, expected",
    [
        ("/start", "open the invite link"),
        ("/start abc", "doesn't look right"),
        ("/start AAAAAAAAAAAAAAAA", "don't recognise"),
        ("hello there", "not enrolled"),
        ("/frobnicate", "don't know that command"),
    ],
)
def test_strangers_get_a_clear_reply_and_create_nothing(emulator, bot, database_url, engine, start, expected):
    invite_code(database_url)
    bot.start()
    emulator.post_message(777, start)
    assert expected in emulator.wait_for_messages(777, 1)[0]["text"]
    assert count_rows(engine, Candidate) == 0 and count_rows(engine, Enrolment) == 0


def test_a_used_code_is_refused(emulator, bot, database_url, engine):
    code = invite_code(database_url)
    bot.start()
    emulator.post_message(SAM, f"/start {code}")
    emulator.wait_for_messages(SAM, 1)
    emulator.post_message(777, f"/start {code}")
    assert "already been used" in emulator.wait_for_messages(777, 1)[0]["text"]
    assert count_rows(engine, Candidate) == 1


def test_stickers_and_long_answers(emulator, bot, database_url, engine):
    code = invite_code(database_url)
    bot.start()
    emulator.post_message(SAM, f"/start {code}")
    emulator.wait_for_messages(SAM, 1)
    emulator.post_sticker(SAM)
    assert "answer in words" in emulator.wait_for_messages(SAM, 2)[1]["text"]
    long_answer = ("We follow the complaints procedure. " * 120)[:4000]
    emulator.post_message(SAM, long_answer)
    assert "Question 2 of" in emulator.wait_for_messages(SAM, 3)[2]["text"]
    with transaction(engine) as session:
        assert session.exec(select(Answer.text)).one() == long_answer


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

    wait_until(lambda: count_rows(engine, Answer) >= 20, what="the bot to work through some answers")
    bot.kill()
    stored_at_kill = count_rows(engine, Answer)
    assert stored_at_kill < 200, "the kill came too late to prove anything"

    bot.start()
    wait_until(lambda: count_rows(engine, Answer) == 200, timeout=60, what="all 200 answers")
    with transaction(engine) as session:
        per_candidate = session.exec(select(Answer.chat_id, func.count()).group_by(Answer.chat_id)).all()
        unprocessed = session.exec(select(func.count()).where(InboundUpdate.processed_at.is_(None))).one()
    assert sorted(chat for chat, _ in per_candidate) == [p.chat_id for p in people]
    assert all(n == 1 for _, n in per_candidate)
    assert unprocessed == 0
    for person in people:
        assert "Question 2 of" in emulator.wait_for_messages(person.chat_id, 1)[-1]["text"]
