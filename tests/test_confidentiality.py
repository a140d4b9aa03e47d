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

    menu = sam.send("/pd")
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
