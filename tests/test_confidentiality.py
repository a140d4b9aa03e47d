"""Candidates are told not to name customers, patients or colleagues: at /start, and before each real case."""

import pytest

from bot.rendering import telegram_text
from tests.phone import Phone, add_assessor, invite

pytestmark = pytest.mark.slow
SAM = 501


def notice() -> str:
    """The advice, as the bot sends it (one partial, used everywhere)."""
    return telegram_text("_confidentiality.html")


def test_the_advice_says_whom_not_to_name_why_and_what_to_say_instead():
    text = notice()
    assert "customers, patients and colleagues" in text
    assert "Assessors and verifiers read your answers" in text
    assert "“the customer”" in text and "initials" in text and "role" in text


def test_a_candidate_is_told_not_to_name_people_at_start_and_before_a_pd_case(emulator, bot, database_url, banks):
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")

    enrolled = sam.send(f"/start {code}")["text"]
    assert notice() in enrolled
    assert enrolled.index(notice()) < enrolled.index("Question 1 of")  # read before the first answer

    menu = sam.send("/case")
    assert notice() in menu["text"]
    case = banks.unit("cg-310").pd_cases[0]
    first_part = sam.press(next(
        button["callback_data"]
        for row in menu["reply_markup"]["inline_keyboard"]
        for button in row
        if button["callback_data"].endswith(f":{case.id}")
    ), on=menu)["text"]
    assert "part 1 of" in first_part
    assert notice() in first_part and first_part.index(notice()) < first_part.index("part 1 of")

    # Later parts of the case do not repeat it.
    second_part = sam.answer(
        "Last week a customer rang because her delivery had not arrived. I listened, checked the order on"
        " the system and repeated the problem back to her so I knew I had understood it properly."
    )["text"]
    assert "part 2 of" in second_part and notice() not in second_part


ANN = 11
PLAIN = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)
NAMING = (
    "Last week Mrs Patel rang on 07700 900123 about a repeat fault, so I checked the complaints log and the"
    " team leader reviews the log each week to spot problems that repeat and tells the customer what happens next."
)


def test_the_assessor_is_warned_when_an_answer_seems_to_name_someone(emulator, bot, database_url):
    add_assessor(database_url, ANN)
    code = invite(database_url, assessor=ANN)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")
    sam.send(f"/start {code}")
    sam.answer(PLAIN)
    sam.answer(NAMING)
    review = sam.send("/review")
    submit = next(b["callback_data"] for row in review["reply_markup"]["inline_keyboard"] for b in row
                  if b["callback_data"].startswith("submit:"))
    declaration = sam.press(submit, on=review)
    assert "Submitted: 2 answers" in sam.press(declaration["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=declaration)["text"]

    ann = Phone(emulator, ANN, "Ann")
    queue = ann.send("/queue")
    first = ann.press(queue["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=queue)
    assert "answer 1 of 2" in first["text"] and "⚠" not in first["text"]
    met = next(b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row
               if b["callback_data"].startswith("met:"))
    ann.press(met, on=first)
    second = ann.wait_for("answer 2 of 2")["text"]
    assert "⚠ <i>May identify someone:</i> “Mrs Patel”; a phone number" in second
