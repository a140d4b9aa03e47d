"""The personal-details check on realistic answers: what it should catch, and what it should leave alone."""

import pytest

from bot.domain.privacy import PersonalDetail, personal_details


def names(text: str) -> list[str]:
    return [d.text for d in personal_details(text) if d.kind == "name"]


def kinds(text: str) -> list[str]:
    return [d.kind for d in personal_details(text)]


def test_a_title_and_a_surname_is_a_name_anywhere_in_a_sentence():
    answer = (
        "Mrs Patel rang because her prescription was late. I checked the system and told Mr. O'Brien at the"
        " pharmacy, and Dr Anne Jones signed it the same day."
    )
    assert names(answer) == ["Mrs Patel", "Mr. O'Brien", "Dr Anne Jones"]
    assert names("I spoke to Sister Okafor on Ward 7 and the Nurse Practitioner.") == ["Sister Okafor"]


def test_two_capitalised_words_mid_sentence_are_a_name():
    answer = "The customer was very upset, so I asked my colleague John Smith to call her back before lunch."
    assert personal_details(answer) == [PersonalDetail("name", "John Smith")]


def test_the_first_word_of_a_sentence_does_not_make_a_name_but_what_follows_it_can():
    assert names("Yesterday Sarah Khan came to the desk about her refund.") == ["Sarah Khan"]
    assert names("Yesterday I dealt with a refund.\nToday Sarah came back.") == []


def test_names_with_hyphens_apostrophes_and_accents():
    answer = "I passed it to our supervisor Zoë Smith-Jones, who rang Mrs Ní Bhriain the next morning."
    assert names(answer) == ["Zoë Smith-Jones", "Mrs Ní Bhriain"]


@pytest.mark.parametrize(
    "answer",
    [
        "We follow the Data Protection Act and the Customer Service Charter, so I never share details.",
        "I told the customer I would ring her back on Monday 3 March, and I did.",
        "I logged it on the CRM and escalated it to my Team Leader and the Customer Services Manager.",
        "The patient's daughter asked about visiting times, so I checked with the Ward Sister and PALS.",
        "I said I'm sorry, and I explained what the Consumer Rights Act says about refunds.",
        "It went to Head Office, and the Complaints Procedure says they reply within 10 working days.",
        "Mrs P. was upset, so I apologised and called her back. A.B. said thank you.",
        "We use Microsoft Teams and Outlook to pass messages to the Duty Manager.",
        "",
    ],
)
def test_ordinary_answers_raise_nothing(answer):
    assert personal_details(answer) == []


def test_initials_and_roles_are_what_candidates_are_asked_to_use_and_are_not_flagged():
    assert personal_details("Mr J rang about his order; I asked my line manager (SK) to authorise the refund.") == []


@pytest.mark.parametrize(
    "number",
    [
        "07700 900123",
        "07700-900-123",
        "07700900123",
        "+44 7700 900123",
        "+447700900123",
        "+44 (0)20 7946 0958",
        "020 7946 0958",
        "(020) 7946 0958",
        "0113 496 0000",
        "01632 960123",
        "0300 123 4567",
    ],
)
def test_uk_phone_numbers_are_found_as_written(number):
    answer = f"She left her number, {number}, and asked us to ring her back."
    assert personal_details(answer) == [PersonalDetail("phone", number)]


@pytest.mark.parametrize(
    "answer",
    [
        "Her order number was 123456789 and the refund was £45.50.",
        "It happened on 01/02/2025 at about 10:30.",
        "Call our freephone line, 0800 123 4567, for help.",  # an organisation's 08 number
        "The reference was 07700 9001 — too short to be a mobile.",
    ],
)
def test_other_numbers_are_not_phone_numbers(answer):
    assert "phone" not in kinds(answer)


def test_email_addresses_are_found_and_their_parts_are_not_taken_for_names():
    answer = "He e-mailed John.Smith@example.co.uk and copied complaints@shop.example.com."
    assert personal_details(answer) == [
        PersonalDetail("email", "John.Smith@example.co.uk"),
        PersonalDetail("email", "complaints@shop.example.com"),
    ]


def test_everything_in_one_answer_in_order_and_once_each():
    answer = (
        "Mrs Patel phoned on 07700 900123 about a missing parcel. I e-mailed the courier at help@courier.example"
        " and rang Mrs Patel back the same afternoon."
    )
    assert personal_details(answer) == [
        PersonalDetail("name", "Mrs Patel"),
        PersonalDetail("phone", "07700 900123"),
        PersonalDetail("email", "help@courier.example"),
    ]


def test_known_misses_are_as_documented():
    # A first name alone, or a two-word name that starts its sentence, is not found.
    assert personal_details("I told Sarah the manager would call.") == []
    assert personal_details("John Smith rang me about it.") == []
